# Shared by the benchmark scripts (sourced): a work directory removed on exit with the
# processes started in it (kept when $KEEP is set), the binaries built into it, and
# helpers reading /proc and waiting for an HTTP answer.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/creditwatch" ./cmd/creditwatch
go build -o "$work/sbs" ./bench/sbs
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
# wait_http URL [TRIES]: up to TRIES × 0.1 s (default 100) for a 2xx answer.
wait_http() {
  for _ in $(seq 1 "${2:-100}"); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1" >&2
  exit 1
}

#!/usr/bin/env bash
# Peak memory and CPU of creditwatch serve with N targets (default 1000) at a 30 s
# interval, all probing the simulated portal on loopback.
#
#   bash bench/targets-1000.sh [targets] [seconds]
#
# Prints the process's peak RSS (VmHWM), CPU time, and probes recorded in the ledger.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-1000}
seconds=${2:-150}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/creditwatch" ./cmd/creditwatch
"$work/creditwatch" sim --listen 127.0.0.1:18181 2>"$work/sim.log" &
{
  echo "portal:"
  echo "  targets:"
  for i in $(seq 1 "$targets"); do
    printf '    - {name: portal-%04d, url: "http://127.0.0.1:18181/?t=%d", interval: 30s, timeout: 10s, expect: {body_contains: ["信用"]}}\n' "$i" "$i"
  done
  echo "storage:"
  echo "  path: $work/ledger.db"
} >"$work/config.yml"

"$work/creditwatch" serve --config.file "$work/config.yml" --web.listen-address 127.0.0.1:19797 \
  --log.level warn 2>"$work/serve.log" &
pid=$!
sleep "$seconds"
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
ticks=$(awk '{print $14 + $15}' /proc/$pid/stat)
metrics=$(curl -s 127.0.0.1:19797/metrics)
awk -v targets="$targets" -v seconds="$seconds" -v hwm="$hwm" -v rss="$rss" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" '
  /^creditwatch_probe_outcome_total/ { probes += $2; if ($0 ~ /outcome="ok"/) ok += $2 }
  /^go_memstats_heap_inuse_bytes/ { heap = $2 }
  END {
    printf "targets=%d interval=30s ran=%ds\n", targets, seconds
    printf "probes=%d ok=%d\n", probes, ok
    printf "peak_rss_mib=%.1f rss_mib=%.1f heap_inuse_mib=%.1f\n", hwm / 1024, rss / 1024, heap / 1048576
    printf "cpu_seconds=%.2f cpu_ms_per_probe=%.3f\n", ticks / hz, ticks / hz * 1000 / probes
  }' <<<"$metrics"
if grep -q 'ERROR' "$work/serve.log"; then echo "errors logged:"; grep ERROR "$work/serve.log" | head; fi

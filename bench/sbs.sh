#!/usr/bin/env bash
# creditwatch against blackbox_exporter, side by side in one run: the same 55 KB UTF-8 page
# on a loopback server, probed by N targets at interval I (N/I probes/s), first by
# blackbox_exporter driven the way Prometheus drives it (one GET /probe per target per
# interval over kept-alive connections, bench/sbs drive), then by creditwatch serve.
#
#   bash bench/sbs.sh [targets] [interval_seconds] [measured_seconds] [note]
#   bash bench/sbs.sh 500 5 60      # 100 probes/s
#   bash bench/sbs.sh 500 1 60      # 500 probes/s
#
# Each program's CPU (utime + stime from /proc, its process alone: the driver and the target
# server are counted apart) is taken over the same measured window after a warm-up; probes
# are those done in the window. Prints µs of CPU per probe for both and their ratio, and
# appends a dated line with the core count to bench/results.md. Needs
# prometheus-blackbox-exporter on the PATH (Debian: apt install prometheus-blackbox-exporter).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-500}
interval=${2:-5}
seconds=${3:-60}
note=${4:-}
base=${SBS_PORT_BASE:-18300}
warmup=$((interval * 2 > 10 ? interval * 2 : 10))
bb=${BLACKBOX:-prometheus-blackbox-exporter}
KEEP=${SBS_KEEP:-}
source bench/lib.sh
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'; }

url="http://127.0.0.1:$base/"
"$work/sbs" target -listen "127.0.0.1:$base" -page collectors/testdata/portal-utf8.html -size $((55 << 10)) &
target=$!
pids+=("$target")
wait_http "$url"

# --- blackbox_exporter --------------------------------------------------------------------
cat >"$work/blackbox.yml" <<YML
modules:
  http_cw:
    prober: http
    timeout: 10s
    http:
      valid_status_codes: [200]
      fail_if_body_not_matches_regexp: ["信用"]
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
YML
"$bb" --config.file "$work/blackbox.yml" --web.listen-address "127.0.0.1:$((base + 2))" --log.level warn 2>"$work/blackbox.log" &
bbpid=$!
pids+=("$bbpid")
wait_http "http://127.0.0.1:$((base + 2))/-/healthy"
"$work/sbs" drive -blackbox "127.0.0.1:$((base + 2))" -module http_cw -url "$url" -targets "$targets" \
  -interval "${interval}s" -listen "127.0.0.1:$((base + 1))" &
driver=$!
pids+=("$driver")
wait_http "http://127.0.0.1:$((base + 1))/count"
sleep "$warmup"
read -r bd0 bok0 _ < <(curl -s "http://127.0.0.1:$((base + 1))/count")
b0=$(ticks $bbpid) d0=$(ticks $driver) t0=$(ticks $target)
sleep "$seconds"
b1=$(ticks $bbpid) d1=$(ticks $driver) t1=$(ticks $target)
read -r bd1 bok1 _ < <(curl -s "http://127.0.0.1:$((base + 1))/count")
bb_probes=$((bd1 - bd0)) bb_ok=$((bok1 - bok0)) bb_ticks=$((b1 - b0)) bb_hwm=$(hwm $bbpid)
bb_driver=$((d1 - d0)) bb_target=$((t1 - t0))
kill "$driver" "$bbpid"
wait "$driver" "$bbpid" 2>/dev/null || true

# --- creditwatch --------------------------------------------------------------------------
"$work/sbs" config -url "$url" -targets "$targets" -interval "${interval}s" -storage "$work/ledger.db" >"$work/creditwatch.yml"
"$work/creditwatch" serve --config.file "$work/creditwatch.yml" --web.listen-address "127.0.0.1:$((base + 3))" \
  --log.level warn 2>"$work/creditwatch.log" &
cwpid=$!
pids+=("$cwpid")
wait_http "http://127.0.0.1:$((base + 3))/-/ready"
count() {
  curl -s "http://127.0.0.1:$((base + 3))/metrics" | awk '/^creditwatch_probe_outcome_total/ { n += $2; if ($0 ~ /outcome="ok"/) ok += $2 } END { printf "%d %d\n", n, ok }'
}
sleep "$warmup"
read -r cd0 cok0 < <(count)
c0=$(ticks $cwpid) t0=$(ticks $target)
sleep "$seconds"
c1=$(ticks $cwpid) t1=$(ticks $target)
read -r cd1 cok1 < <(count)
cw_probes=$((cd1 - cd0)) cw_ok=$((cok1 - cok0)) cw_ticks=$((c1 - c0)) cw_hwm=$(hwm $cwpid) cw_target=$((t1 - t0))
kill -TERM "$cwpid"
wait "$cwpid" 2>/dev/null || true
if grep -q '"level":"error"' "$work/creditwatch.log"; then echo "creditwatch logged errors:"; grep '"level":"error"' "$work/creditwatch.log" | head -5; fi

# --- figures ------------------------------------------------------------------------------
rate=$(awk -v n="$targets" -v i="$interval" 'BEGIN {printf "%g", n / i}')
bb_us=$(awk -v t="$bb_ticks" -v hz="$hz" -v n="$bb_probes" 'BEGIN {printf "%.0f", n ? t / hz * 1e6 / n : 0}')
cw_us=$(awk -v t="$cw_ticks" -v hz="$hz" -v n="$cw_probes" 'BEGIN {printf "%.0f", n ? t / hz * 1e6 / n : 0}')
ratio=$(awk -v a="$cw_us" -v b="$bb_us" 'BEGIN {printf "%.3f", b ? a / b : 0}')
cores=$(nproc)
echo "targets=$targets interval=${interval}s (${rate} probes/s) measured=${seconds}s after ${warmup}s, $cores cores"
printf 'blackbox_exporter: probes=%d ok=%d cpu_s=%s us_per_probe=%s peak_rss_mib=%.1f (driver cpu_s=%s, target server cpu_s=%s)\n' \
  "$bb_probes" "$bb_ok" "$(secs $bb_ticks)" "$bb_us" "$(awk -v k="$bb_hwm" 'BEGIN {print k / 1024}')" "$(secs $bb_driver)" "$(secs $bb_target)"
printf 'creditwatch:       probes=%d ok=%d cpu_s=%s us_per_probe=%s peak_rss_mib=%.1f (target server cpu_s=%s)\n' \
  "$cw_probes" "$cw_ok" "$(secs $cw_ticks)" "$cw_us" "$(awk -v k="$cw_hwm" 'BEGIN {print k / 1024}')" "$(secs $cw_target)"
echo "ratio creditwatch/blackbox_exporter = $ratio"

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- . ':!bench/results.md' 2>/dev/null; then rev="$rev+dirty"; fi
[ -f bench/results.md ] || printf '# Benchmark results\n\nOne line per run of a script in bench/, appended by the script.\n\n' >bench/results.md
printf -- '- %s sbs.sh, %d cores: %d targets at %ds (%s probes/s), %ds measured: blackbox_exporter %s µs/probe (%d probes, peak %.0f MiB), creditwatch %s µs/probe (%d probes, %d ok, peak %.0f MiB), ratio %s; %s%s\n' \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$cores" "$targets" "$interval" "$rate" "$seconds" "$bb_us" "$bb_probes" "$(awk -v k="$bb_hwm" 'BEGIN {print k / 1024}')" \
  "$cw_us" "$cw_probes" "$cw_ok" "$(awk -v k="$cw_hwm" 'BEGIN {print k / 1024}')" "$ratio" "$rev" "${note:+, $note}" >>bench/results.md

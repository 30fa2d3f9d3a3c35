#!/usr/bin/env bash
# creditwatch at scale: N targets at interval I on a loopback target server (bench/sbs's,
# the same 55 KB UTF-8 page), creditwatch serve alone, measured after a warm-up.
#
#   bash bench/scale.sh [targets] [interval_seconds] [measured_seconds] [note]
#   bash bench/scale.sh 5000 30 180      # the acceptance point: 5,000 targets at 30 s
#   bash bench/scale.sh 20000 30 180     # the knee
#
# Prints and appends to bench/results.md (a dated line with the core count):
#   - CPU: utime + stime of the creditwatch process from /proc over the window, as % of one
#     core, and µs per probe;
#   - peak RSS (VmHWM) at the end;
#   - the 99th percentile of creditwatch_collector_start_skew_seconds{collector="portal"}
#     over the window (from the difference of its buckets, interpolated within a bucket as
#     Prometheus's histogram_quantile does), and the share of runs started later than 1 s;
#   - /metrics: the median and the longest scrape time of one scrape every 15 s
#     (SCALE_SCRAPE_EVERY), and its size.
# The first start of N new targets writes each one's first page as its baseline, which takes
# a while with thousands: the warm-up (2 intervals) begins once every target was probed once
# (printed as "all probed once after"); the peak RSS covers the whole run, start included.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-5000}
interval=${2:-30}
seconds=${3:-180}
note=${4:-}
base=${SCALE_PORT_BASE:-18500}
warmup=$((interval * 2 > 30 ? interval * 2 : 30))
KEEP=${SCALE_KEEP:-}
source bench/lib.sh

url="http://127.0.0.1:$base/"
"$work/sbs" target -listen "127.0.0.1:$base" -page collectors/testdata/portal-utf8.html -size $((55 << 10)) &
pids+=("$!")
wait_http "$url" 600

"$work/sbs" config -url "$url" -targets "$targets" -interval "${interval}s" -storage "$work/ledger.db" >"$work/creditwatch.yml"
metrics="http://127.0.0.1:$((base + 3))/metrics"
start=$(date +%s.%N)
"$work/creditwatch" serve --config.file "$work/creditwatch.yml" --web.listen-address "127.0.0.1:$((base + 3))" \
  --log.level warn 2>"$work/creditwatch.log" &
cw=$!
pids+=("$cw")
wait_http "http://127.0.0.1:$((base + 3))/-/ready" 600
ready=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
# The first start writes each target's first page as its baseline: wait until every target
# has been probed once (how long that took is printed), then the warm-up.
total() { curl -s "$metrics" | awk '/^creditwatch_probe_outcome_total/ { n += $2 } END { printf "%d\n", n }'; }
until [ "$(total)" -ge "$targets" ]; do sleep 5; done
first=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.0f", e - s}')
sleep "$warmup"

# scrape FILE: one scrape of /metrics into FILE, printing its time in seconds and its size.
every=${SCALE_SCRAPE_EVERY:-15} # seconds between scrapes, as a Prometheus would
scrape() { curl -s -o "$1" -w '%{time_total} %{size_download}\n' "$metrics"; }
s0=$(date +%s.%N)
scrape "$work/m0" >"$work/scrapes"
c0=$(ticks $cw)
t0=$(date +%s.%N)
end=$(($(date +%s) + seconds))
i=0
while [ "$(date +%s)" -lt "$end" ]; do
  sleep $((end - $(date +%s) < every ? end - $(date +%s) : every))
  i=$((i + 1))
  scrape "$work/m" >>"$work/scrapes"
done
c1=$(ticks $cw)
t1=$(date +%s.%N)
s1=$(date +%s.%N)
scrape "$work/m1" >>"$work/scrapes"
peak=$(hwm $cw)
kill -TERM "$cw"
wait "$cw" 2>/dev/null || true
if grep -q '"level":"error"' "$work/creditwatch.log"; then echo "creditwatch logged errors:"; grep '"level":"error"' "$work/creditwatch.log" | head -5; fi

# probes FILE: probes done and those ok.
probes() { awk '/^creditwatch_probe_outcome_total/ { n += $2; if ($0 ~ /outcome="ok"/) ok += $2 } END { printf "%d %d\n", n, ok }' "$1"; }
read -r n0 ok0 < <(probes "$work/m0")
read -r n1 ok1 < <(probes "$work/m1")
# skew: the portal runs' start skew buckets over the window, "le count" per line.
buckets() { awk '/^creditwatch_collector_start_skew_seconds_bucket\{collector="portal"/ {
  match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); print le, $2 }' "$1"; }
read -r p99 late runs < <(join <(buckets "$work/m0" | sort) <(buckets "$work/m1" | sort) |
  awk '{ le = ($1 == "+Inf") ? 1e300 : $1 + 0; print le, $3 - $2 }' | sort -g |
  awk '{ le[NR] = $1; c[NR] = $2; if ($1 == 1) over1 = $2 } END {
    total = c[NR]; q = 0.99 * total; prev = 0; pc = 0
    for (i = 1; i <= NR; i++) { if (c[i] >= q) break; prev = le[i]; pc = c[i] }
    if (total == 0) p = 0; else if (le[i] >= 1e300) p = prev; else p = prev + (le[i] - prev) * (q - pc) / (c[i] - pc)
    printf "%.3f %.4f %d\n", p, total ? (total - over1) / total : 0, total }')
read -r scrape_med scrape_max size < <(sort -g "$work/scrapes" | awk '{ t[NR] = $1; s = $2 } END { printf "%.3f %.3f %d\n", t[int((NR + 1) / 2)], t[NR], s }')
window=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
probes_done=$((n1 - n0))
cpu_s=$(awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
cpu_pct=$(awk -v c="$cpu_s" -v w="$window" 'BEGIN {printf "%.1f", 100 * c / w}')
us=$(awk -v c="$cpu_s" -v n="$probes_done" 'BEGIN {printf "%.0f", n ? c * 1e6 / n : 0}')
rate=$(awk -v n="$probes_done" -v a="$s0" -v b="$s1" 'BEGIN {printf "%.1f", n / (b - a)}')
want=$(awk -v n="$targets" -v i="$interval" 'BEGIN {printf "%.1f", n / i}')
rss=$(awk -v k="$peak" 'BEGIN {printf "%.0f", k / 1024}')
cores=$(nproc)
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo "targets=$targets interval=${interval}s ($want probes/s wanted) measured=${window}s after ${warmup}s warm-up, ready in ${ready}s, all probed once after ${first}s, $cores cores, load $load"
echo "probes=$probes_done ($rate/s) ok=$((ok1 - ok0)) cpu_s=$cpu_s cpu=${cpu_pct}% of one core us_per_probe=$us peak_rss_mib=$rss"
echo "start skew (portal runs in the window: $runs): p99=${p99}s, later than 1 s: $late"
echo "/metrics: median ${scrape_med}s, longest ${scrape_max}s of $(wc -l <"$work/scrapes") scrapes, $size bytes"

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- . ':!bench/results.md' 2>/dev/null; then rev="$rev+dirty"; fi
[ -f bench/results.md ] || printf '# Benchmark results\n\nOne line per run of a script in bench/, appended by the script.\n\n' >bench/results.md
printf -- '- %s scale.sh, %d cores (load %s): %d targets at %ds (%s probes/s), %ss measured: all probed once after %ss, %s probes/s done, CPU %s%% of one core (%s µs/probe), peak %s MiB, start skew p99 %ss (%s later than 1 s), /metrics %ss median %ss longest %d bytes; %s%s\n' \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$cores" "$load" "$targets" "$interval" "$want" "$window" "$first" "$rate" "$cpu_pct" "$us" "$rss" "$p99" "$late" \
  "$scrape_med" "$scrape_max" "$size" "$rev" "${note:+, $note}" >>bench/results.md

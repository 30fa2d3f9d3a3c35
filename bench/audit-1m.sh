#!/usr/bin/env bash
# Audit throughput and peak memory of `creditwatch audit` on generated penalty CSVs of
# growing size: memory must stay flat as the file grows (the audit streams).
#
#   bash bench/audit-1m.sh [sizes...]     (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-100000 1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/creditwatch" ./cmd/creditwatch
for n in $sizes; do
  go run ./bench/genrecords -kind penalty -n "$n" -o "$work/p.csv"
  bytes=$(stat -c %s "$work/p.csv")
  start=$(date +%s.%N)
  "$work/creditwatch" audit --kind penalty --format json "$work/p.csv" >"$work/out.json" &
  pid=$!
  peak=0
  while kill -0 $pid 2>/dev/null; do
    rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    [ "${rss:-0}" -gt "$peak" ] && peak=$rss
    sleep 0.05
  done
  wait $pid
  end=$(date +%s.%N)
  awk -v n="$n" -v b="$bytes" -v s="$start" -v e="$end" -v peak="$peak" 'BEGIN {
    t = e - s
    printf "records=%d file_mib=%.1f seconds=%.2f records_per_second=%.0f mib_per_second=%.1f peak_rss_mib=%.1f\n",
      n, b / 1048576, t, n / t, b / 1048576 / t, peak / 1024 }'
  head -c 300 "$work/out.json" | tr -d '\n' | cut -c1-300; echo
done

#!/usr/bin/env bash
# The test command of creditwatch (README, "Test"): installs the real parts the tests use
# from Debian's packages, then vets and tests everything. Under CI=true a missing part fails
# the run instead of skipping a test.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
# A real PostgreSQL for the ledger's second backend (scripts/postgres.sh starts one).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# The CMaps of the standard Chinese PDF fonts, for the simulator's credit reports.
[ -d /usr/share/poppler/cMap/Adobe-GB1 ] || need+=(poppler-data)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in promtool prometheus amtool prometheus-alertmanager chromium pdftotext sqlite3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: $tool is still missing after install" >&2; exit 1; }
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "test.sh: PostgreSQL's initdb is still missing after install" >&2; exit 1; }

echo "== gofmt, go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad" >&2; exit 1; fi
go vet ./...

echo "== alert rules"
promtool check rules alerts/*.rules.yml
promtool test rules alerts/tests/*.yml

echo "== go test ($SECONDS s so far)"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
# The ledger tests run on SQLite and again on this PostgreSQL (CREDITWATCH_TEST_POSTGRES),
# stopped and removed when the script ends, however it ends.
source scripts/postgres.sh
trap 'rm -f "$report"; pg_stop' EXIT
# The ledger's SQLite half runs under the race detector with everything else; its
# PostgreSQL half (the same tests, the same Go code) runs next without it, four times faster.
CREDITWATCH_TEST_BACKENDS=sqlite CREDITWATCH_TEST_REPORT=$report go test -race -count=1 ./...
CREDITWATCH_TEST_BACKENDS=postgres go test -count=1 ./internal/ledger/

echo "== dates and scores under other time zones ($SECONDS s so far)"
# "Today" is Shanghai's whatever the machine's zone: the packages that compute dates and
# scores run again where midnight falls elsewhere: UTC (unless the machine's zone already
# is, as a container's usually is) and America/Los_Angeles, 16 hours behind Shanghai.
zones=(America/Los_Angeles)
[ "$(date +%z)" = "+0000" ] || zones+=(UTC)
for tz in "${zones[@]}"; do
  CREDITWATCH_TEST_BACKENDS=sqlite TZ=$tz go test -count=1 ./internal/clock/ ./internal/workday/ ./internal/publicity/ ./internal/cases/ \
    ./internal/card/ ./internal/ledger/ ./internal/auditfile/ ./internal/report/ ./internal/service/
done

# Every fuzz target (func FuzzXxx in a _test.go file) for a number of executions; Go fuzzes
# one target per package per run. A failing input is written to the package's
# testdata/fuzz/FuzzXxx/, where it stays as a regression seed.
#
# The budget is a count, not a duration: with a duration (-fuzztime 4s) Go 1.26's fuzzing
# coordinator can report its own deadline as a failure ("context deadline exceeded", no input
# written; a race fixed in Go 1.27), and did so twice running on one target. A count
# has no deadline to race. Each count is about 4 s of fuzzing on a 2-core machine (the rate
# measured there); FUZZ_SCALE multiplies them all. A target not listed gets 4,000.
echo "== fuzzing ($SECONDS s so far)"
declare -A fuzz_execs=(
  [FuzzClassify]=6000 [FuzzDecodeBody]=6000 [FuzzParsePage]=6000
  [FuzzParseOverrides]=36000 [FuzzCSV]=29000 [FuzzXLSX]=3000 [FuzzParseTimestamp]=89000
  [FuzzParse]=15000 [FuzzHTMLReport]=150 [FuzzPDFReport]=300
  [FuzzDetect]=11000 [FuzzNewestDate]=7000 [FuzzKeywordSet]=11000
  [FuzzUSCC]=150000 [FuzzOrgCode]=150000 [FuzzResidentID]=160000 [FuzzMaskID]=110000
  [FuzzParseDate]=110000
)
scale=${FUZZ_SCALE:-1}
mapfile -t targets < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . |
  sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz.*)$#\1 \2#' | sort -u)
fuzz_start=$SECONDS
fuzz_done=0
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  n=$(( ${fuzz_execs[$name]:-4000} * scale ))
  fuzz_done=$(( fuzz_done + n ))
  # New inputs are minimised for 1 s at most: the default 60 s would eat the budget.
  if ! out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "${n}x" -fuzzminimizetime 1s "$pkg" 2>&1); then
    echo "$out" >&2
    echo "test.sh: $name in $pkg failed; the input is in $pkg/testdata/fuzz/$name" >&2
    exit 1
  fi
done
echo "fuzzed ${#targets[@]} targets, $fuzz_done executions, in $(( SECONDS - fuzz_start )) s" >>"$report"
echo "the test command took $SECONDS s" >>"$report"
echo "== measurements"
cat "$report"

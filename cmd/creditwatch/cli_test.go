package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestAuditCommandJSON(t *testing.T) {
	out, stderr, code := runCLI(t, "audit", "--kind", "penalty", "--as-of", "2026-11-27", "--format", "json",
		"../../internal/auditfile/testdata/penalty.xlsx")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Total, Due, Reported, Compliant, Timely int
		UploadRatio                             float64  `json:"upload_ratio"`
		ComplianceRatio                         float64  `json:"compliance_ratio"`
		TimelinessRatio                         float64  `json:"timeliness_ratio"`
		USCCErrorRate                           *float64 `json:"uscc_error_rate"`
		Departments                             []struct {
			Department string
			Total      int
		}
		Violations []struct {
			Row                  int
			Field, Rule, Message string
		}
		Indicators []struct {
			ID     string
			Points *float64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	// 13 records decided in the period; the 14th, decided after the audit date, is listed only.
	if res.Total != 13 || res.Due != 11 || res.Reported != 10 || res.Compliant != 6 || res.Timely != 8 {
		t.Errorf("figures = %+v", res)
	}
	if res.UploadRatio != 10.0/11 || res.ComplianceRatio != 0.6 || res.TimelinessRatio != 0.8 {
		t.Errorf("ratios = %v %v %v", res.UploadRatio, res.ComplianceRatio, res.TimelinessRatio)
	}
	if res.USCCErrorRate == nil || *res.USCCErrorRate != 2.0/9 {
		t.Errorf("uscc_error_rate = %v", res.USCCErrorRate)
	}
	if len(res.Departments) != 3 || len(res.Violations) != 7 {
		t.Errorf("%d departments, %d violations", len(res.Departments), len(res.Violations))
	}
	v := res.Violations[0]
	if v.Row != 5 || v.Field != "处罚决定日期" || v.Rule != "bad_date" || v.Message == "" {
		t.Errorf("first violation = %+v", v)
	}
	for _, ind := range res.Indicators {
		if ind.ID == "uscc_error_rate" && (ind.Points == nil || *ind.Points != 0) {
			t.Errorf("uscc_error_rate points = %v, want 0 at a 22%% error rate", ind.Points)
		}
	}
}

func TestAuditCommandExitCodes(t *testing.T) {
	tests := map[string]struct {
		args []string
		code int
		err  string
	}{
		"findings are not a failure": {[]string{"--kind", "licence", "../../internal/auditfile/testdata/licence.csv"}, 0, ""},
		"unreadable":                 {[]string{"--kind", "penalty", "testdata/nope.csv"}, 2, "cannot read the file"},
		"wrong kind":                 {[]string{"--kind", "penalty", "../../internal/auditfile/testdata/licence.csv"}, 2, "wrong --kind?"},
		"bad as-of":                  {[]string{"--kind", "penalty", "--as-of", "2026-02-30", "x.csv"}, 2, `--as-of: "2026-02-30" is not a calendar date`},
		"bad kind":                   {[]string{"--kind", "fine", "x.csv"}, 2, `--kind: "fine" is not penalty, licence, objection or repair`},
		"from after as-of": {[]string{"--kind", "penalty", "--from", "2026-12-01", "--as-of", "2026-11-27", "x.csv"}, 2,
			"--from 2026-12-01 is after --as-of 2026-11-27: the period would be empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append([]string{"audit"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.err) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.err)
			}
		})
	}
}

func TestCheckCommands(t *testing.T) {
	out, _, code := runCLI(t, "check", "uscc", "91320100748204660Q", "91350211M0000XUF46")
	want := "91320100748204660Q valid\n91350211M0000XUF46 invalid: uscc check character: expected R, found 6\n"
	if out != want || code != 1 {
		t.Errorf("check uscc: exit %d\n%s\nwant exit 1\n%s", code, out, want)
	}
	if out, _, code := runCLI(t, "check", "uscc", "91320100748204660Q"); code != 0 || out != "91320100748204660Q valid\n" {
		t.Errorf("check uscc valid: exit %d %q", code, out)
	}
	// The department/category pair and the region are warnings, never invalid.
	out, _, code = runCLI(t, "check", "uscc", "354109001234567882", "91990000123456788C")
	want = "354109001234567882 valid\n91990000123456788C valid (warning, not counted: uscc region at position 3: 99 is not a province-level division)\n"
	if out != want || code != 0 {
		t.Errorf("check uscc warnings: exit %d\n%s\nwant exit 0\n%s", code, out, want)
	}
	if out, _, code := runCLI(t, "check", "workdays", "2026-09-30", "2026-10-15"); code != 0 || out != "7\n" {
		t.Errorf("check workdays: exit %d %q, want 7", code, out)
	}
}

// TestCLIErrorsSayHowToFix: each error names what is wrong and how to put it right.
func TestCLIErrorsSayHowToFix(t *testing.T) {
	dir := t.TempDir() // no creditwatch.yml here
	noYear := func(cmd string, y int) string {
		return fmt.Sprintf("creditwatch %s: no official holiday data for %d is built in: write that year's days off and "+
			"adjusted working days in a file (format: docs/domain.md, \"Working days\") and pass it with --holidays FILE\n", cmd, y)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"calendar", "alertmanager", "--year", "abc"}, 2,
			"creditwatch calendar alertmanager: --year abc: not a year; write it as 2026 (repeat --year for several years)\n"},
		{[]string{"calendar", "alertmanager", "--year", "2026", "--year", "26x"}, 2,
			"creditwatch calendar alertmanager: --year 26x: not a year; write it as 2026 (repeat --year for several years)\n"},
		{[]string{"calendar", "alertmanager", "--year", "2031"}, 2, noYear("calendar alertmanager", 2031)},
		{[]string{"check", "workdays", "2027-12-30", "2028-01-05"}, 2, noYear("check workdays", 2028)},
		{[]string{"check", "workdays", "2026-10-08", "2026-10-01"}, 2,
			"creditwatch check workdays: FROM 2026-10-08 is after TO 2026-10-01: give the earlier date first\n"},
		{[]string{"report", "--month", "2026-10"}, 1, "creditwatch report generate: no config file creditwatch.yml (looked for " +
			filepath.Join(dir, "creditwatch.yml") + "): pass the config with --config.file FILE\n"},
		{[]string{"score"}, 1, "creditwatch score: no config file creditwatch.yml (looked for " +
			filepath.Join(dir, "creditwatch.yml") + "): pass the config with --config.file FILE\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(binary, tc.args...)
			cmd.Dir = dir
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != tc.code || errb.String() != tc.stderr {
				t.Errorf("exit %d, stderr\n%q\nwant exit %d,\n%q", code, errb.String(), tc.code, tc.stderr)
			}
		})
	}
}

// TestAuditTextForPeople: the audit's text names each indicator in Chinese with its ledger
// row, gates as 达标/未达标, percentages with two decimals, and lists the records behind
// its counts.
func TestAuditTextForPeople(t *testing.T) {
	out, stderr, code := runCLI(t, "audit", "--kind", "penalty", "--as-of", "2026-11-27", "../../internal/auditfile/testdata/penalty.csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"上报率 90.91 % · 合规率 60.00 % · 及时率 80.00 %\n",
		"重错率 22.22 %\n",
		"  “双公示”上报率、合规率、及时率（基础指标4）：未达标（各项比率须均为 100 %：90.91 %、60.00 %、80.00 %）\n",
		"  统一社会信用代码重错率（五(一)1）：0 / 1 分（",
		"逾期未报 1 条",
		"第12行 濮应急罚〔2026〕304号 · 濮阳市应急管理局 · 决定日期 2026-07-01，上报期限 2026-07-10\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("audit text lacks %q:\n%s", want, out)
		}
	}
}

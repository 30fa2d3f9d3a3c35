package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

var fixedNow = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func TestParseGood(t *testing.T) {
	cfg, err := Parse(mustRead(t, "testdata/good.yml"), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	tg := cfg.Portal.Targets[0]
	if tg.Name != "credit-portal" || time.Duration(tg.Interval) != 30*time.Second || time.Duration(tg.Timeout) != 10*time.Second {
		t.Errorf("target = %+v", tg)
	}
	if got := tg.Expect.BodyContains; len(got) != 1 || got[0] != "信用" {
		t.Errorf("body_contains = %q", got)
	}
	if !cfg.Portal.Incident.ChallengeFails() {
		t.Error("a WAF challenge must count as a failure by default")
	}
	if want := time.Date(2026, 1, 1, 0, 0, 0, 0, clock.Shanghai); !cfg.Assessment.PeriodStart.Equal(want) {
		t.Errorf("period_start = %v, want %v", cfg.Assessment.PeriodStart, want)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte("portal:\n  targets:\n    - {name: p, url: 'https://example.org/'}\n"), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	tg := cfg.Portal.Targets[0]
	checks := map[string]struct{ got, want any }{
		"interval":      {time.Duration(tg.Interval), DefaultInterval},
		"timeout":       {time.Duration(tg.Timeout), DefaultTimeout},
		"jitter":        {time.Duration(tg.Jitter), DefaultInterval},
		"status":        {tg.Expect.Status[0], 200},
		"max body":      {tg.MaxBodyBytes, int64(DefaultMaxBodyBytes)},
		"max redirects": {*tg.MaxRedirects, DefaultMaxRedirects},
		"open_after":    {cfg.Portal.Incident.OpenAfter, 2},
		"close_after":   {cfg.Portal.Incident.CloseAfter, 2},
		"quorum":        {cfg.Portal.Incident.Quorum, 1},
		"storage":       {cfg.Storage.Path, DefaultStoragePath},
		"raw probes":    {cfg.Storage.Retention.RawProbes.D(), 35 * 24 * time.Hour},
		"rollup years":  {cfg.Storage.Retention.RollupYears, 3},
		"rounding":      {cfg.Assessment.Rounding, "ceil"},
		"period start":  {cfg.Assessment.PeriodStart.IsZero(), true}, // the calendar year
		"site":          {tg.Site, DefaultSite},
		"scored":        {tg.IsScored(), true},
		"merge window":  {cfg.Portal.MergeWindow(DefaultSite), 2 * DefaultInterval},
		"city":          {cfg.Assessment.City, "濮阳市"},
		"ledger title":  {cfg.Assessment.LedgerTitle, "濮阳市创建第三批社会信用体系建设示范城市工作台账"},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
}

// TestBadConfigs asserts the exact message of each bad-*.yml file.
func TestBadConfigs(t *testing.T) {
	want := map[string]string{
		"bad-unknown-key.yml":     "line 5: portal.targets[0]: unknown key colour",
		"bad-typo.yml":            "line 7: portal.targets[0].expect: unknown key body_contain (did you mean body_contains?)",
		"bad-status-scalar.yml":   "line 6: portal.targets[0].expect.status: must be a list, e.g. [200]",
		"bad-bool.yml":            `line 6: portal.incident.challenge_is_failure: must be true or false, got "maybe"`,
		"bad-keep-alive.yml":      `line 5: portal.targets[0].keep_alive: must be true or false, got "yes please"`,
		"bad-commit-window.yml":   "line 3: storage.commit_window: must be between 0s and 100ms, got 1s",
		"bad-targets-mapping.yml": "line 3: portal.targets: must be a list, e.g. […]",
		// Every problem in one run: a syntax error, what follows it, and the rules.
		"bad-many.yml": "line 6: portal.targets[0].expect: unknown key body_contain (did you mean body_contains?)\n" +
			"line 8: portal.incident.open_after: must be between 1 and 100, got 0\n" +
			"line 9: a tab character in the indentation (indent with spaces)\n" +
			"line 11: storage: unknown key pth (did you mean path?)",
		"bad-interval.yml":        "line 5: portal.targets[0].interval: must be between 100ms and 1d, got 50ms",
		"bad-merge-window.yml":    "line 5: portal.incident.merge_window: must be between 1s and 1d, got 36h",
		"bad-timeout.yml":         "line 6: portal.targets[0].timeout: must be positive and not exceed the interval 10s, got 20s",
		"bad-duration.yml":        `line 5: "thirty" is not a duration such as 30s, 5m or 1h`,
		"bad-status.yml":          "line 6: portal.targets[0].expect.status[1]: 999 is not an HTTP status",
		"bad-duplicate-name.yml":  `line 5: portal.targets[1].name: "credit-portal" is already the name of portal.targets[0]`,
		"bad-url.yml":             `line 4: portal.targets[0].url: "ftp://127.0.0.1/" is not an http or https URL`,
		"bad-url-credentials.yml": "line 4: portal.targets[0].url: must not carry credentials",
		"bad-name.yml":            `line 3: portal.targets[0].name: "Credit Portal" is not a valid target name (lower-case letters, digits, '-', '_', '.'; at most 63)`,
		"bad-open-after.yml":      "line 6: portal.incident.open_after: must be between 1 and 100, got -1",
		"bad-date.yml":            `line 6: "2026-13-01" is not a date in YYYY-MM-DD form`,
		"bad-rounding.yml":        `line 6: assessment.rounding: "up" is not ceil or exact`,
		"bad-syntax.yml":          "line 3: a tab character in the indentation (indent with spaces)",
		"bad-type.yml":            `line 6: portal.incident.open_after: must be a whole number, got "two"`,
		"bad-platform-url.yml":    `line 2: platform.url: "platform.example/api" is not an http or https URL`,
		"bad-page-size.yml":       "line 3: platform.page_size: must be between 1 and 5000, got 50000",
		"bad-token-file.yml":      "line 3: platform.token_file: cannot be read: stat /nonexistent/creditwatch.token: no such file or directory",
		"bad-export-kind.yml":     `line 4: publicity.exports[0].kind: "fines" is not penalty, licence, objection or repair`,
		// Bounds: an explicit 0 is an error, not the default.
		"bad-interval-zero.yml":           "line 5: portal.targets[0].interval: must be between 100ms and 1d, got 0s",
		"bad-interval-huge.yml":           "line 5: portal.targets[0].interval: must be between 100ms and 1d, got 2562047h",
		"bad-interval-overflow.yml":       `line 5: "2562048h" is out of range for a duration`,
		"bad-timeout-zero.yml":            "line 5: portal.targets[0].timeout: must be positive and not exceed the interval 30s, got 0s",
		"bad-jitter.yml":                  "line 5: portal.targets[0].jitter: must be between 0 and the interval 30s, got 1m",
		"bad-max-body-zero.yml":           "line 5: portal.targets[0].max_body_bytes: must be between 1024 and 67108864, got 0",
		"bad-max-body-huge.yml":           "line 5: portal.targets[0].max_body_bytes: must be between 1024 and 67108864, got 1073741824",
		"bad-max-redirects.yml":           "line 5: portal.targets[0].max_redirects: must be between 0 and 20, got 100",
		"bad-close-after-zero.yml":        "line 6: portal.incident.close_after: must be between 1 and 100, got 0",
		"bad-quorum.yml":                  "line 6: portal.incident.quorum: must be between 1 and 20, got 0",
		"bad-open-after-huge.yml":         "line 6: portal.incident.open_after: must be between 1 and 100, got 1000",
		"bad-platform-interval.yml":       "line 3: platform.interval: must be between 1s and 1d, got 0s",
		"bad-platform-timeout.yml":        "line 4: platform.timeout: must be positive and not exceed the interval 10s, got 0s",
		"bad-platform-max-body.yml":       "line 3: platform.max_body_bytes: must be between 1024 and 268435456, got 1073741824",
		"bad-page-size-zero.yml":          "line 3: platform.page_size: must be between 1 and 5000, got 0",
		"bad-deadline-workdays.yml":       "line 2: publicity.deadline_workdays: must be between 1 and 60, got 0",
		"bad-export-interval.yml":         "line 6: publicity.exports[0].interval: must be between 1s and 1d, got 30d",
		"bad-max-decompressed.yml":        "line 2: publicity.max_decompressed_bytes: must be between 1048576 and 1073741824, got 8589934592",
		"bad-max-decompressed-total.yml":  "line 3: publicity.max_decompressed_total_bytes: must be between 134217728 and 4294967296, got 67108864",
		"bad-period-start.yml":            "line 6: assessment.period_start: must be between 2000-01-01 and 2099-12-31, got 0026-01-01",
		"bad-token-device.yml":            "line 3: platform.token_file: cannot be read: /dev/zero is not a regular file",
		"bad-merge-key.yml":               "line 4: portal.targets[1]: unknown key a\nline 4: portal.targets[1]: unknown key b\nthe YAML cannot be decoded: a merge key (<<) or an alias is used where a plain key or value must be",
		"bad-confirm-after.yml":           "line 6: portal.targets[0].defacement.confirm_after: must be between 1 and 100, got -1",
		"bad-structure-threshold.yml":     "line 6: portal.targets[0].defacement.structure_threshold: must be above 0 and at most 1, got 1.5",
		"bad-must-not-contain.yml":        "line 6: portal.targets[0].defacement.must_not_contain[1]: must not be empty",
		"bad-allow-origin.yml":            `line 6: portal.targets[0].defacement.allow_origins[1]: "https://cdn.example.com/js/" is not an origin ("https://host[:port]", "host" or "*.example.gov.cn")`,
		"bad-freshness-age.yml":           "line 6: portal.targets[0].freshness.max_age_workdays: must be between 1 and 250, got 300",
		"bad-freshness-selector.yml":      `line 6: portal.targets[0].freshness.selector: "ul.news-list [" is not a CSS selector`,
		"bad-reports-no-template.yml":     "line 1: credit_reports.url_template: is required to check credit reports",
		"bad-reports-template.yml":        "line 2: credit_reports.url_template: must contain {code} or {name}",
		"bad-reports-template-url.yml":    `line 2: credit_reports.url_template: "ftp://credit.example.gov.cn/report?code={code}" is not an http or https URL`,
		"bad-reports-code.yml":            `line 3: credit_reports.codes[1]: "91410900MA45A0011C" is not a valid unified social credit code: uscc check character: expected B, found C`,
		"bad-reports-duplicate-code.yml":  `line 5: credit_reports.codes[1]: "91410900MA45A0011B" is already credit_reports.codes[0]`,
		"bad-reports-daily-sample.yml":    "line 3: credit_reports.daily_sample: must be between 0 and 1000, got 5000",
		"bad-reports-nothing.yml":         "line 1: credit_reports.codes: nothing to check: give codes, a daily_sample, or both",
		"bad-reports-interval.yml":        "line 4: credit_reports.interval: must be at least 1s, got 500ms",
		"bad-reports-timeout.yml":         "line 5: credit_reports.timeout: must be positive and not exceed the interval 10s, got 1m",
		"bad-reports-edition.yml":         `line 4: credit_reports.edition: "2019" is not one of 2021, 2022`,
		"bad-reports-max-body.yml":        "line 4: credit_reports.max_body_bytes: must be between 1024 and 1073741824, got 100",
		"bad-retention-raw.yml":           "line 6: storage.retention.raw_probes: must be between 1d and 10y, got 12h",
		"bad-retention-years.yml":         "line 6: storage.retention.rollup_years: must be between 1 and 100, got 0",
		"bad-retention-longer.yml":        "line 6: storage.retention.raw_probes: must not exceed rollup_years (2 × 365d), got 800d",
		"bad-storage-url-and-path.yml":    "line 3: storage.url: is a PostgreSQL ledger and storage.path (line 2) a SQLite one: give one of them",
		"bad-storage-url-password.yml":    "line 2: storage.url: must not carry a password: put it in storage.password_file, or in PGPASSWORD or ~/.pgpass",
		"bad-storage-url-scheme.yml":      "line 2: storage.url: is not a postgres:// URL (postgres://user@host:port/database)",
		"bad-storage-url-database.yml":    "line 2: storage.url: names no database (postgres://user@host:port/database)",
		"bad-storage-password-file.yml":   "line 3: storage.password_file: cannot be read: stat /nonexistent/creditwatch.pgpass: no such file or directory",
		"bad-storage-password-no-url.yml": "line 3: storage.password_file: is the password of storage.url, which is not set",
		"bad-storage-url-no-key.yml":      "line 2: storage.url: needs storage.personal_data_key_file: every instance writing a shared ledger must hash ID numbers with the same key",
	}
	files, err := filepath.Glob("testdata/bad-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("%d bad-*.yml files, %d expected messages", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			msg, ok := want[name]
			if !ok {
				t.Fatalf("no expected message for %s", name)
			}
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			// Each line names the file.
			if got := strings.ReplaceAll(err.Error(), f+": ", ""); got != msg || strings.Count(err.Error(), f+": ") != strings.Count(msg, "\n")+1 {
				t.Errorf("error\n got: %s\nwant: %s", got, msg)
			}
		})
	}
}

func TestEveryProblemListed(t *testing.T) {
	doc := "portal:\n  targets:\n    - {name: A, url: 'x'}\n  incident: {open_after: -1, close_after: -2}\n"
	_, err := Parse([]byte(doc), fixedNow)
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"targets[0].name", "targets[0].url", "open_after", "close_after"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
}

// TestParseContent reads the content checks' keys and their defaults.
func TestParseContent(t *testing.T) {
	cfg, err := Parse([]byte(`
portal:
  targets:
    - {name: home, url: "https://credit.example.gov.cn/"}
    - name: news
      url: https://credit.example.gov.cn/xydt/
      defacement: {must_not_contain: [代开发票], allow_origins: ["*.gov.cn", "https://cdn.example.com"], confirm_after: 3, structure_threshold: 0.5}
      freshness: {selector: "ul.news-list .date"}
credit_reports:
  url_template: https://credit.example.gov.cn/report?code={code}&name={name}
  codes: [91410900MA45A0011B]
  daily_sample: 20
`), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	home, news, r := cfg.Portal.Targets[0], cfg.Portal.Targets[1], cfg.CreditReports
	checks := map[string]struct{ got, want any }{
		"default confirm_after":       {home.Defacement.ConfirmAfter, 2},
		"default structure_threshold": {home.Defacement.StructureThreshold, 0.35},
		"no freshness":                {home.Freshness == nil, true},
		"confirm_after":               {news.Defacement.ConfirmAfter, 3},
		"allow_origins":               {len(news.Defacement.AllowOrigins), 2},
		"default max_age_workdays":    {news.Freshness.MaxAgeWorkdays, DefaultFreshnessMaxAge},
		"selector":                    {news.Freshness.Selector, "ul.news-list .date"},
		"reports enabled":             {r.Enabled(), true},
		"default interval":            {r.Interval.D(), time.Hour},
		"default timeout":             {r.Timeout.D(), 30 * time.Second},
		"default edition":             {r.Edition, "2022"},
		"needs name":                  {r.NeedsName(), true},
		"url":                         {r.URL("91410900MA45A0011B", "濮阳 公司"), "https://credit.example.gov.cn/report?code=91410900MA45A0011B&name=%E6%BF%AE%E9%98%B3+%E5%85%AC%E5%8F%B8"},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
	if cfg, _ := Parse([]byte("portal: {targets: []}\n"), fixedNow); cfg.CreditReports.Enabled() {
		t.Error("credit reports checked without a url_template")
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yml")
	_, err := Load(path)
	if err == nil || err.Error() != "no config file "+path+" (looked for "+path+"): pass the config with --config.file FILE" {
		t.Fatalf("error = %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExplicitValuesKept: a default fills only what the file leaves out, including values
// brought in by YAML merge keys.
func TestExplicitValuesKept(t *testing.T) {
	tests := map[string]struct {
		doc  string
		got  func(*Config) any
		want any
	}{
		"jitter 0s means no jitter": {doc: "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1/', jitter: 0s}\n",
			got: func(c *Config) any { return c.Portal.Targets[0].Jitter.D() }, want: time.Duration(0)},
		"max_redirects 0 means none": {doc: "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1/', max_redirects: 0}\n",
			got: func(c *Config) any { return *c.Portal.Targets[0].MaxRedirects }, want: 0},
		"merged interval": {doc: "portal:\n  targets:\n    - &a {name: a, url: 'http://127.0.0.1/', interval: 2m, timeout: 20s}\n    - {<<: *a, name: b}\n",
			got: func(c *Config) any { return c.Portal.Targets[1].Interval.D() }, want: 2 * time.Minute},
		"default decompressed limits": {doc: "",
			got: func(c *Config) any {
				return [2]int64{c.Publicity.MaxDecompressedBytes, c.Publicity.MaxDecompressedTotalBytes}
			},
			want: [2]int64{64 << 20, 256 << 20}},
		"total follows a larger part limit": {doc: "publicity: {max_decompressed_bytes: 536870912}\n",
			got: func(c *Config) any { return c.Publicity.MaxDecompressedTotalBytes }, want: int64(512 << 20)},
		"commit window by default": {doc: "",
			got: func(c *Config) any { return c.Storage.CommitWindow.D() }, want: DefaultCommitWindow},
		"commit window 0 writes at once": {doc: "storage: {commit_window: 0s}\n",
			got: func(c *Config) any { return c.Storage.CommitWindow.D() }, want: time.Duration(0)},
		"a fresh connection per probe by default": {doc: "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1/'}\n",
			got: func(c *Config) any { return c.Portal.Targets[0].KeepAlive }, want: false},
		"keep_alive": {doc: "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1/', keep_alive: true}\n",
			got: func(c *Config) any { return c.Portal.Targets[0].KeepAlive }, want: true},
		"private redirects unset": {doc: "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1/'}\n",
			got: func(c *Config) any { return c.Portal.Targets[0].AllowPrivateRedirects == nil }, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.doc), fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.got(cfg); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCityNamesTheLedger(t *testing.T) {
	cfg, err := Parse([]byte("assessment:\n  city: 安阳市\n"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Assessment.LedgerTitle != "安阳市创建第三批社会信用体系建设示范城市工作台账" {
		t.Errorf("ledger title = %q", cfg.Assessment.LedgerTitle)
	}
	cfg, _ = Parse([]byte("assessment:\n  city: 安阳市\n  ledger_title: 安阳市社会信用体系建设示范创建任务清单\n"), time.Now())
	if cfg.Assessment.LedgerTitle != "安阳市社会信用体系建设示范创建任务清单" {
		t.Errorf("ledger title = %q", cfg.Assessment.LedgerTitle)
	}
}

func TestStorageURL(t *testing.T) {
	for _, tc := range []struct {
		name, doc, ledger string
	}{
		{"SQLite by default", "", DefaultStoragePath},
		{"a file", "storage:\n  path: /var/lib/creditwatch/l.db\n", "/var/lib/creditwatch/l.db"},
		{"PostgreSQL", "storage:\n  url: postgres://creditwatch@db:5432/ledger?sslmode=verify-full\n  personal_data_key_file: /etc/k\n",
			"postgres://creditwatch@db:5432/ledger?sslmode=verify-full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.doc), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Storage.Ledger(); got != tc.ledger {
				t.Errorf("ledger %q, want %q", got, tc.ledger)
			}
		})
	}
	// A password given in the URL is refused without being repeated.
	_, err := Parse([]byte("storage:\n  url: postgresql://u:s3cret@db/ledger\n  personal_data_key_file: /etc/k\n"), time.Now())
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a URL with a password: %v", err)
	}
}

// Package config holds creditwatch's configuration: its types, defaults and validation.
// It never touches the network.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/scoring"
)

// Config is the whole configuration file.
type Config struct {
	Portal     Portal     `yaml:"portal"`
	Platform   Platform   `yaml:"platform"`
	Publicity  Publicity  `yaml:"publicity"`
	Cases      Cases      `yaml:"cases"`
	Calendar   Calendar   `yaml:"calendar"`
	Storage    Storage    `yaml:"storage"`
	Assessment Assessment `yaml:"assessment"`
	Reports    Reports    `yaml:"reports"`
	// CreditReports configures the enterprise credit report check (content.go).
	CreditReports CreditReports `yaml:"credit_reports"`
}

// Reports configures how monthly reports are signed and delivered.
type Reports struct {
	// Dir receives each finished month's report (HTML, PDF-ready HTML, CSV, JSON) on the
	// first working day after the month ends; unset: reports are not delivered.
	Dir string `yaml:"dir"`
	// SigningKeyFile is the Ed25519 key reports are signed with (creditwatch keys generate).
	SigningKeyFile string `yaml:"signing_key_file"`
	// DeliverAt is the time of day, Asia/Shanghai, of the delivery; default 09:00.
	DeliverAt string `yaml:"deliver_at"`
	// LinkBase is the base URL of the links in notices, e.g. https://creditwatch.example.gov.cn.
	LinkBase string    `yaml:"link_base"`
	Webhooks []Webhook `yaml:"webhooks"`
}

// Webhook is an endpoint told when a month's report is delivered.
type Webhook struct {
	Name string `yaml:"name"`
	// URL, or URLFile holding it: a WeCom bot's URL carries its key, a secret.
	URL     string `yaml:"url"`
	URLFile string `yaml:"url_file"`
	// Format is wecom (a WeCom group bot's markdown message) or json.
	Format string `yaml:"format"`
}

// Platform is the credit platform's data API (docs/platform-api.md); unset URL: not polled.
type Platform struct {
	URL          string   `yaml:"url"`
	TokenFile    string   `yaml:"token_file"`
	Interval     Duration `yaml:"interval"`
	Timeout      Duration `yaml:"timeout"`
	PageSize     int      `yaml:"page_size"`
	MaxBodyBytes int64    `yaml:"max_body_bytes"`
	// Streams are the stream groups polled: publicity (licences and penalties) and cases
	// (objections and repairs). Default both.
	Streams []string `yaml:"streams"`
}

// Cases configures the objection and credit repair rules.
type Cases struct {
	// RepairRule selects the minimum publication period: "2019" (3 months, 6 for serious
	// penalties) or "2023" (3 months, 1 year for SpecialDomains).
	RepairRule     string   `yaml:"repair_rule"`
	SpecialDomains []string `yaml:"special_domains"`
}

// Publicity configures the double-publicity audit.
type Publicity struct {
	DeadlineWorkdays int      `yaml:"deadline_workdays"`
	AllowedCodes     []string `yaml:"allowed_codes"`
	Exports          []Export `yaml:"exports"`
	// MaxDecompressedBytes caps each part of an XLSX export once decompressed, and
	// MaxDecompressedTotalBytes the whole workbook, against ZIP bombs.
	MaxDecompressedBytes      int64 `yaml:"max_decompressed_bytes"`
	MaxDecompressedTotalBytes int64 `yaml:"max_decompressed_total_bytes"`
}

// Export is a directory where CSV or XLSX exports of one kind are dropped.
type Export struct {
	Name     string   `yaml:"name"`
	Kind     string   `yaml:"kind"`
	Dir      string   `yaml:"dir"`
	Interval Duration `yaml:"interval"`
}

// Calendar configures the working-day calendar.
type Calendar struct {
	// OverridesFile adds holiday arrangements for years the built-in data lacks.
	OverridesFile string `yaml:"overrides_file"`
}

// Portal configures the credit portal probes.
type Portal struct {
	Targets  []Target       `yaml:"targets"`
	Incident IncidentPolicy `yaml:"incident"`
	// ChallengeMarkers are body substrings that identify a WAF challenge page.
	ChallengeMarkers []string `yaml:"challenge_markers"`
}

// Target is one probed URL.
type Target struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Site is the site the target is a page of: overlapping incidents of one site are one
	// scored outage however many of its pages are probed. Default DefaultSite.
	Site string `yaml:"site"`
	// Scored says whether the site is the assessed credit portal; false for a backup or
	// staging site, whose incidents are recorded and alerted but cost no points.
	Scored       *bool    `yaml:"scored"`
	Interval     Duration `yaml:"interval"`
	Timeout      Duration `yaml:"timeout"`
	Jitter       Duration `yaml:"jitter"`
	Expect       Expect   `yaml:"expect"`
	MaxBodyBytes int64    `yaml:"max_body_bytes"`
	MaxRedirects *int     `yaml:"max_redirects"`
	UserAgent    string   `yaml:"user_agent"`
	TLS          TLS      `yaml:"tls"`
	// AllowPrivateRedirects lets redirects lead to loopback, private or link-local
	// addresses. Unset: allowed only when the target itself is on such an address.
	AllowPrivateRedirects *bool `yaml:"allow_private_redirects"`
	// KeepAlive reuses one connection between probes instead of opening a fresh one for each
	// (the default, which measures DNS, connect and TLS as a visitor meets them).
	KeepAlive bool `yaml:"keep_alive"`
	// Defacement tunes the defacement check of the target's pages (content.go).
	Defacement Defacement `yaml:"defacement"`
	// Freshness, when set, makes the target a list page whose newest item must be recent.
	Freshness *Freshness `yaml:"freshness"`
}

// Expect is what a good answer looks like.
type Expect struct {
	Status       []int    `yaml:"status"`
	BodyContains []string `yaml:"body_contains"`
}

// TLS settings of a probe.
type TLS struct {
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	CAFile             string `yaml:"ca_file"`
	ServerName         string `yaml:"server_name"`
}

// IncidentPolicy turns probe results into incidents.
type IncidentPolicy struct {
	OpenAfter  int `yaml:"open_after"`
	CloseAfter int `yaml:"close_after"`
	// ChallengeIsFailure says whether a WAF challenge counts as a failed probe.
	ChallengeIsFailure *bool `yaml:"challenge_is_failure"`
	// MergeWindow: an incident of a site starting within this time after another of the
	// same site ended is the same outage. Unset: close_after × the longest interval of the
	// site's pages, the time a recovery takes to be confirmed.
	MergeWindow Duration `yaml:"merge_window"`
	// Quorum is how many vantages must see a site down at the same time for an outage to
	// be scored (several creditwatch instances sharing one ledger); vantages that were not
	// watching at the time are not asked, so the quorum is at most the number watching.
	// Default 1: any vantage.
	Quorum int `yaml:"quorum"`
}

// Storage configures the ledger.
type Storage struct {
	// Path is the ledger's SQLite file, the embedded default (DefaultStoragePath).
	Path string `yaml:"path"`
	// URL is a PostgreSQL ledger instead (postgres://user@host:port/database?sslmode=…),
	// which several creditwatch instances may share. It must not carry the password: that
	// comes from PasswordFile, or from PostgreSQL's own PGPASSWORD, PGPASSFILE or ~/.pgpass.
	// Not together with Path.
	URL string `yaml:"url"`
	// PasswordFile holds the password of URL's user (its first line).
	PasswordFile string `yaml:"password_file"`
	// PersonalDataKeyFile is the key natural persons' ID numbers are hashed with before a
	// record is stored (created on first start, mode 0600). Unset: personal-data.key next
	// to the ledger.
	PersonalDataKeyFile string `yaml:"personal_data_key_file"`
	// CommitWindow is how long the ledger waits, after a probe result arrives, for others to
	// write with it in one transaction (group commit: one fsync for them all). Each is
	// acknowledged, in the metrics too, only once written. 0 writes at once; default
	// DefaultCommitWindow.
	CommitWindow Duration `yaml:"commit_window"`
	// Retention says how long the ledger keeps raw probe rows and their rollups.
	Retention Retention `yaml:"retention"`
}

// Retention configures what the ledger keeps of the probes. Incidents, risk events,
// annotations, evidence and reports are kept for ever.
type Retention struct {
	// RawProbes is how long each probe's own row is kept (default 35d); after it, the probe
	// lives on in the hour and day rollups, which every figure reads.
	RawProbes Duration `yaml:"raw_probes"`
	// RollupYears is how many years before the current assessment period the hour and day
	// rollups and the watch spans are kept (default 3).
	RollupYears int `yaml:"rollup_years"`
}

// Ledger is where the ledger is: URL when set, else Path.
func (s Storage) Ledger() string {
	if s.URL != "" {
		return s.URL
	}
	return s.Path
}

// PersonalDataKey is the personal data key's file for a ledger at path.
func (s Storage) PersonalDataKey(path string) string {
	if s.PersonalDataKeyFile != "" {
		return s.PersonalDataKeyFile
	}
	if strings.Contains(path, "://") { // a PostgreSQL ledger given by --storage.path
		path = DefaultStoragePath
	}
	return filepath.Join(filepath.Dir(path), "personal-data.key")
}

// Assessment configures how the period is scored.
type Assessment struct {
	// PeriodStart is the first day of an assessment period: periods are a year long and
	// roll over on its anniversary. Unset: the calendar year, rolling over at midnight
	// Asia/Shanghai on 1 January (see card.Settings.PeriodStart).
	PeriodStart Date   `yaml:"period_start"`
	Rounding    string `yaml:"rounding"`
	// City is the city assessed, as the office writes it (default 濮阳市, the city of the
	// ledger the catalogue is derived from).
	City string `yaml:"city"`
	// LedgerTitle is the title of the city's work ledger, named on the status page and in
	// reports (default: that of the catalogue's ledger, with City in place of 濮阳市).
	LedgerTitle string `yaml:"ledger_title"`
}

// Defaults of the assessment's names.
const (
	DefaultCity        = "濮阳市"
	defaultLedgerTitle = "创建第三批社会信用体系建设示范城市工作台账"
)

// Duration is a time span written as Prometheus writes them: 500ms, 30s, 5m, 1h, 1d.
type Duration time.Duration

// UnmarshalYAML parses a duration and names the line of a bad one.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	// Errors are TypeErrors, so that decoding goes on and every problem is named.
	v, err := model.ParseDuration(n.Value)
	if err != nil && strings.Contains(err.Error(), "out of range") {
		return typeError("line %d: %q is out of range for a duration", n.Line, n.Value)
	}
	if err != nil {
		return typeError("line %d: %q is not a duration such as 30s, 5m or 1h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func typeError(format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf(format, args...)}}
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return model.Duration(d).String() }

// Date is a calendar date in Asia/Shanghai, written YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalYAML parses YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.ParseInLocation(time.DateOnly, n.Value, clock.Shanghai)
	if err != nil {
		return typeError("line %d: %q is not a date in YYYY-MM-DD form", n.Line, n.Value)
	}
	d.Time = t
	return nil
}

// Defaults used where the file is silent.
const (
	DefaultInterval     = 30 * time.Second
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBodyBytes = 5 << 20
	DefaultMaxRedirects = 5
	DefaultOpenAfter    = 2
	DefaultCloseAfter   = 2
	DefaultStoragePath  = "data/creditwatch.db"
	DefaultCommitWindow = 100 * time.Millisecond
	DefaultUserAgent    = "creditwatch (credit portal availability monitor)"
	DefaultSite         = "portal"
	MaxQuorum           = 20
)

// DefaultChallengeMarkers are fragments of the challenge pages of WAFs common on
// government sites (Ruishu, Jiasule, WZWS, Yunsuo, Safedog) and of generic JS checks.
var DefaultChallengeMarkers = []string{
	"__jsl_clearance", "wzws_cid", "WZWS_CONFIRM", "yunsuo_session_verify", "safedog",
	"_waf_", "$_ts=", "请开启JavaScript", "浏览器安全检查", "安全验证", "Just a moment",
}

var targetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// Load reads, parses, defaults and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		abs, _ := filepath.Abs(path)
		return nil, fmt.Errorf("no config file %s (looked for %s): pass the config with --config.file FILE", path, abs)
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := Parse(data, time.Now())
	if err != nil {
		// One problem per line, each naming the file, as compilers do.
		return nil, errors.New(path + ": " + strings.ReplaceAll(err.Error(), "\n", "\n"+path+": "))
	}
	return cfg, nil
}

// Parse parses a config document strictly.
// The error lists every problem found, each with its line and key.
//
// Every problem is reported in one go, each on its own line, in the order of the file: a
// syntax error, then whatever can still be read past it (the offending line is skipped);
// unknown keys and values of the wrong shape; then the settings' own rules.
func Parse(data []byte, now time.Time) (*Config, error) {
	root, syntax := parseNodes(data)
	p := &problems{root: root, errs: syntax}
	cfg := &Config{}
	if len(root.Content) > 0 {
		before := len(p.errs)
		p.checkShape(root.Content[0], reflect.TypeOf(Config{}), nil)
		shapeOK := len(p.errs) == before
		if err := decodeLoose(root, cfg); err != nil {
			// What the shape check did not already say: bad durations and dates, or a
			// document yaml.v3 cannot decode at all.
			for _, msg := range decodeMessages(err) {
				if shapeOK || !strings.Contains(msg, "cannot unmarshal") {
					p.addUnreadable(lineIn(msg), nil, "%s", strings.TrimPrefix(msg, fmt.Sprintf("line %d: ", lineIn(msg))))
				}
			}
		}
	}
	cfg.applyDefaults(now, root)
	cfg.validate(p)
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return cfg, nil
}

// parseNodes parses the document; after a syntax error it skips the offending line and
// tries again (up to ten times), so that one run names as many problems as it can.
func parseNodes(data []byte) (*yaml.Node, []error) {
	var errs []error
	lines := strings.Split(string(data), "\n")
	for attempt := 0; ; attempt++ {
		var root yaml.Node
		err := yaml.Unmarshal([]byte(strings.Join(lines, "\n")), &root)
		if err == nil {
			return &root, errs
		}
		msg := cleanYAMLError(err).Error()
		line := lineIn(msg)
		if strings.Contains(msg, "tab character") || strings.Contains(msg, "cannot start any token") {
			// A tab in the indentation: yaml.v3 names it obscurely, or names the line before.
			for l := max(line, 1); l <= min(line+1, len(lines)); l++ {
				if indent := lines[l-1][:len(lines[l-1])-len(strings.TrimLeft(lines[l-1], " \t"))]; strings.Contains(indent, "\t") {
					line = l
					msg = fmt.Sprintf("line %d: a tab character in the indentation (indent with spaces)", l)
					break
				}
			}
		}
		errs = append(errs, lineError{line: line, msg: msg})
		if line < 1 || line > len(lines) || lines[line-1] == "" || attempt == 10 {
			return &yaml.Node{}, errs
		}
		lines[line-1] = ""
	}
}

// decodeLoose decodes the document's node into cfg, unknown keys aside (checkShape has
// named them), never panicking.
func decodeLoose(root *yaml.Node, cfg *Config) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("the YAML cannot be decoded: a merge key (<<) or an alias is used where a plain key or value must be")
		}
	}()
	return root.Decode(cfg)
}

// decodeMessages splits a decoding error into its messages, cleaned of yaml.v3's prefixes.
func decodeMessages(err error) []string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			out[i] = strings.TrimSpace(strings.TrimPrefix(m, "yaml: "))
		}
		return out
	}
	return []string{cleanYAMLError(err).Error()}
}

var linePrefix = regexp.MustCompile(`^line (\d+): `)

// lineIn is the line a message starts with ("line 5: …"), or 0.
func lineIn(msg string) int {
	if m := linePrefix.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	lines := strings.Split(msg, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return errors.New(strings.Join(lines, "; "))
}

func (c *Config) applyDefaults(now time.Time, root *yaml.Node) {
	// A default fills a key the file leaves out; an explicit 0 stays and validate rejects it.
	unset := func(path ...any) bool { return nodeAt(root, path) == nil }
	p := &c.Portal
	if unset("portal", "incident", "open_after") {
		p.Incident.OpenAfter = DefaultOpenAfter
	}
	if unset("portal", "incident", "close_after") {
		p.Incident.CloseAfter = DefaultCloseAfter
	}
	if unset("portal", "incident", "quorum") {
		p.Incident.Quorum = 1
	}
	if p.Incident.ChallengeIsFailure == nil {
		yes := true
		p.Incident.ChallengeIsFailure = &yes
	}
	if p.ChallengeMarkers == nil {
		p.ChallengeMarkers = DefaultChallengeMarkers
	}
	for i := range p.Targets {
		t := &p.Targets[i]
		at := func(key string) bool { return unset("portal", "targets", i, key) }
		if at("interval") {
			t.Interval = Duration(DefaultInterval)
		}
		if at("timeout") {
			t.Timeout = Duration(min(DefaultTimeout, max(time.Duration(t.Interval), MinTargetInterval)))
		}
		if at("jitter") {
			t.Jitter = t.Interval
		}
		if len(t.Expect.Status) == 0 {
			t.Expect.Status = []int{200}
		}
		if at("max_body_bytes") {
			t.MaxBodyBytes = DefaultMaxBodyBytes
		}
		if t.MaxRedirects == nil {
			n := DefaultMaxRedirects
			t.MaxRedirects = &n
		}
		if t.UserAgent == "" {
			t.UserAgent = DefaultUserAgent
		}
		if t.Site == "" {
			t.Site = DefaultSite
		}
		if t.Scored == nil {
			yes := true
			t.Scored = &yes
		}
	}
	if c.Storage.Path == "" {
		c.Storage.Path = DefaultStoragePath
	}
	if unset("storage", "commit_window") {
		c.Storage.CommitWindow = Duration(DefaultCommitWindow)
	}
	if unset("storage", "retention", "raw_probes") {
		c.Storage.Retention.RawProbes = Duration(DefaultRawProbes)
	}
	if unset("storage", "retention", "rollup_years") {
		c.Storage.Retention.RollupYears = DefaultRollupYears
	}
	if c.Assessment.City == "" {
		c.Assessment.City = DefaultCity
	}
	if c.Assessment.LedgerTitle == "" {
		c.Assessment.LedgerTitle = c.Assessment.City + defaultLedgerTitle
	}
	pl := &c.Platform
	if unset("platform", "interval") {
		pl.Interval = Duration(5 * time.Minute)
	}
	if unset("platform", "timeout") {
		pl.Timeout = Duration(min(30*time.Second, max(pl.Interval.D(), MinSourceInterval)))
	}
	if unset("platform", "page_size") {
		pl.PageSize = 500
	}
	if unset("platform", "max_body_bytes") {
		pl.MaxBodyBytes = 16 << 20
	}
	if pl.Streams == nil {
		pl.Streams = []string{"publicity", "cases"}
	}
	if c.Cases.RepairRule == "" {
		c.Cases.RepairRule = "2019"
	}
	if c.Cases.SpecialDomains == nil {
		c.Cases.SpecialDomains = []string{"特种设备", "安全生产", "消防"}
	}
	c.Publicity.applyDefaults(unset)
	if c.Assessment.Rounding == "" {
		c.Assessment.Rounding = scoring.RoundCeil
	}
	if c.Reports.DeliverAt == "" {
		c.Reports.DeliverAt = "09:00"
	}
	for i := range c.Reports.Webhooks {
		if c.Reports.Webhooks[i].Format == "" {
			c.Reports.Webhooks[i].Format = "json"
		}
	}
	c.applyContentDefaults()
}

// problems collects validation errors with the line of the key they concern.
type problems struct {
	root *yaml.Node
	errs []error
	// unreadable lines: a value there could not be read, so the rules about it are not
	// checked (its zero value would only add noise).
	unreadable map[int]bool
}

func (p *problems) add(path []any, format string, args ...any) {
	line := lineOf(p.root, path)
	if p.unreadable[line] {
		return
	}
	p.addAt(line, path, format, args...)
}

// addUnreadable records that a value could not be read at all.
func (p *problems) addUnreadable(line int, path []any, format string, args ...any) {
	if p.unreadable == nil {
		p.unreadable = map[int]bool{}
	}
	p.unreadable[line] = true
	p.addAt(line, path, format, args...)
}

// err is every problem, one per line, in the order of the file (problems without a line
// last), each once.
func (p *problems) err() error {
	line := func(e error) int {
		if le, ok := e.(lineError); ok && le.line > 0 {
			return le.line
		}
		return 1 << 30
	}
	sort.SliceStable(p.errs, func(i, j int) bool { return line(p.errs[i]) < line(p.errs[j]) })
	seen := map[string]bool{}
	var out []error
	for _, e := range p.errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}

func (c *Config) validate(p *problems) {
	p.durationIn([]any{"storage", "commit_window"}, c.Storage.CommitWindow, 0, MaxCommitWindow)
	c.Storage.validateURL(p)
	inc := c.Portal.Incident
	p.intIn([]any{"portal", "incident", "open_after"}, int64(inc.OpenAfter), 1, MaxStreak)
	p.intIn([]any{"portal", "incident", "close_after"}, int64(inc.CloseAfter), 1, MaxStreak)
	p.intIn([]any{"portal", "incident", "quorum"}, int64(inc.Quorum), 1, MaxQuorum)
	if nodeAt(p.root, []any{"portal", "incident", "merge_window"}) != nil {
		p.durationIn([]any{"portal", "incident", "merge_window"}, inc.MergeWindow, time.Second, MaxInterval)
	}
	names := map[string]int{}
	for i, t := range c.Portal.Targets {
		at := func(key ...any) []any { return append([]any{"portal", "targets", i}, key...) }
		if !targetName.MatchString(t.Name) {
			p.add(at("name"), "%q is not a valid target name (lower-case letters, digits, '-', '_', '.'; at most 63)", t.Name)
		} else if j, dup := names[t.Name]; dup {
			p.add(at("name"), "%q is already the name of portal.targets[%d]", t.Name, j)
		}
		names[t.Name] = i
		if !targetName.MatchString(t.Site) {
			p.add(at("site"), "%q is not a valid site name (lower-case letters, digits, '-', '_', '.'; at most 63)", t.Site)
		}
		if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(at("url"), "%q is not an http or https URL", t.URL)
		} else if u.User != nil {
			p.add(at("url"), "must not carry credentials")
		}
		okInterval := p.durationIn(at("interval"), t.Interval, MinTargetInterval, MaxInterval)
		if t.Timeout <= 0 || okInterval && t.Timeout > t.Interval {
			p.add(at("timeout"), "must be positive and not exceed the interval %s, got %s", t.Interval, t.Timeout)
		}
		if t.Jitter < 0 || okInterval && t.Jitter > t.Interval {
			p.add(at("jitter"), "must be between 0 and the interval %s, got %s", t.Interval, t.Jitter)
		}
		for j, s := range t.Expect.Status {
			if s < 100 || s > 599 {
				p.add(at("expect", "status", j), "%d is not an HTTP status", s)
			}
		}
		p.intIn(at("max_body_bytes"), t.MaxBodyBytes, MinBodyBytes, MaxPortalBodyBytes)
		p.intIn(at("max_redirects"), int64(*t.MaxRedirects), 0, MaxRedirects)
		if t.TLS.CAFile != "" {
			if _, err := os.Stat(t.TLS.CAFile); err != nil {
				p.add(at("tls", "ca_file"), "cannot be read: %v", err)
			}
		}
	}
	c.Storage.Retention.validate(p)
	c.validateSources(p)
	c.Publicity.validateLimits(p)
	c.Assessment.validate(p)
	c.validateContent(p)
	if c.Assessment.Rounding != scoring.RoundCeil && c.Assessment.Rounding != scoring.RoundExact {
		p.add([]any{"assessment", "rounding"}, "%q is not ceil or exact", c.Assessment.Rounding)
	}
}

// IsScored reports whether the target's site is the assessed portal.
func (t Target) IsScored() bool { return t.Scored == nil || *t.Scored }

// MergeWindow is how soon after an incident of a site ends another of the same site is
// still the same outage: incident.merge_window, or else the time the longest-probed page
// of the site takes to confirm a recovery (close_after probes).
func (p Portal) MergeWindow(site string) time.Duration {
	if p.Incident.MergeWindow > 0 {
		return p.Incident.MergeWindow.D()
	}
	var w time.Duration
	for _, t := range p.Targets {
		if t.Site == site {
			w = max(w, time.Duration(p.Incident.CloseAfter)*t.Interval.D())
		}
	}
	return w
}

// ChallengeFails reports whether a WAF challenge counts as a failed probe.
func (i IncidentPolicy) ChallengeFails() bool {
	return i.ChallengeIsFailure == nil || *i.ChallengeIsFailure
}

func formatPath(path []any) string {
	var b strings.Builder
	for _, k := range path {
		switch k := k.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		}
	}
	return b.String()
}

// lineOf finds the line of the deepest node of path present in the document.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n == nil || len(n.Content) == 0 {
		return 0
	}
	n = n.Content[0]
	line := 0
	for _, k := range path {
		var next *yaml.Node
		switch k := k.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line = n.Content[i].Line
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

package config

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/deface"
)

// Defacement configures the defacement check of a target's pages (docs/domain.md,
// "Defacement and intrusion"). Every page a probe fetches that is HTML and answered well
// is checked; these keys only tune it.
type Defacement struct {
	// MustNotContain extends the shipped keyword list with the target's own terms.
	MustNotContain []string `yaml:"must_not_contain"`
	// AllowOrigins are the origins the page may load from and link to besides its own:
	// "https://host[:port]", "host" (any scheme and port) or "*.example.gov.cn".
	AllowOrigins []string `yaml:"allow_origins"`
	// ConfirmAfter is how many consecutive probes must show a sign before it opens a
	// security incident; default 2.
	ConfirmAfter int `yaml:"confirm_after"`
	// StructureThreshold is the structure distance (0–1) from the accepted baseline beyond
	// which the page has changed; default 0.35.
	StructureThreshold float64 `yaml:"structure_threshold"`
}

// Freshness makes a target a list page whose newest item must be recent ("网站内容维护正常").
type Freshness struct {
	// Selector is a CSS selector of the elements holding the items' dates; empty: the
	// newest YYYY-MM-DD (or YYYY/MM/DD, YYYY年M月D日) anywhere on the page.
	Selector string `yaml:"selector"`
	// MaxAgeWorkdays: the page is stale when its newest item is older than this many
	// working days; default 10.
	MaxAgeWorkdays int `yaml:"max_age_workdays"`
}

// CreditReports configures the enterprise credit report check (五(四)2). Unset
// url_template: reports are not checked.
type CreditReports struct {
	// URLTemplate is the report's address with {code} and/or {name} in it.
	URLTemplate string `yaml:"url_template"`
	// Codes are a fixed sample, checked every interval.
	Codes []string `yaml:"codes"`
	// DailySample adds this many codes a day, drawn in rotation from the subject codes of
	// the publicity records creditwatch holds, spread over the day.
	DailySample  int      `yaml:"daily_sample"`
	Interval     Duration `yaml:"interval"`
	Timeout      Duration `yaml:"timeout"`
	Edition      string   `yaml:"edition"`
	MaxBodyBytes int64    `yaml:"max_body_bytes"`
}

// Defaults of the content checks.
const (
	DefaultFreshnessMaxAge       = 10
	DefaultCreditReportsInterval = time.Hour
)

// Enabled reports whether credit reports are checked.
func (c CreditReports) Enabled() bool { return c.URLTemplate != "" }

// URL is the report address of a code whose registered name is name.
func (c CreditReports) URL(code, name string) string {
	return strings.NewReplacer("{code}", url.QueryEscape(code), "{name}", url.QueryEscape(name)).Replace(c.URLTemplate)
}

// NeedsName reports whether the template asks for the registered name.
func (c CreditReports) NeedsName() bool { return strings.Contains(c.URLTemplate, "{name}") }

func (c *Config) applyContentDefaults() {
	for i := range c.Portal.Targets {
		t := &c.Portal.Targets[i]
		if t.Defacement.ConfirmAfter == 0 {
			t.Defacement.ConfirmAfter = deface.DefaultConfirmAfter
		}
		if t.Defacement.StructureThreshold == 0 {
			t.Defacement.StructureThreshold = deface.DefaultStructureThreshold
		}
		if f := t.Freshness; f != nil && f.MaxAgeWorkdays == 0 {
			f.MaxAgeWorkdays = DefaultFreshnessMaxAge
		}
	}
	r := &c.CreditReports
	if r.Interval == 0 {
		r.Interval = Duration(DefaultCreditReportsInterval)
	}
	if r.Timeout == 0 {
		r.Timeout = Duration(min(30*time.Second, r.Interval.D()))
	}
	if r.Edition == "" {
		r.Edition = creditreport.DefaultEdition
	}
	if r.MaxBodyBytes == 0 {
		r.MaxBodyBytes = creditreport.DefaultLimits().MaxBodyBytes
	}
}

func (c *Config) validateContent(p *problems) {
	for i, t := range c.Portal.Targets {
		at := func(key ...any) []any { return append([]any{"portal", "targets", i}, key...) }
		d := t.Defacement
		if d.ConfirmAfter < 1 || d.ConfirmAfter > 100 {
			p.add(at("defacement", "confirm_after"), "must be between 1 and 100, got %d", d.ConfirmAfter)
		}
		if d.StructureThreshold <= 0 || d.StructureThreshold > 1 {
			p.add(at("defacement", "structure_threshold"), "must be above 0 and at most 1, got %g", d.StructureThreshold)
		}
		for j, term := range d.MustNotContain {
			if strings.TrimSpace(term) == "" {
				p.add(at("defacement", "must_not_contain", j), "must not be empty")
			}
		}
		for j, o := range d.AllowOrigins {
			if !validOrigin(o) {
				p.add(at("defacement", "allow_origins", j), `%q is not an origin ("https://host[:port]", "host" or "*.example.gov.cn")`, o)
			}
		}
		if f := t.Freshness; f != nil {
			if f.MaxAgeWorkdays < 1 || f.MaxAgeWorkdays > 250 {
				p.add(at("freshness", "max_age_workdays"), "must be between 1 and 250, got %d", f.MaxAgeWorkdays)
			}
			if f.Selector != "" {
				if err := deface.CompileSelector(f.Selector); err != nil {
					p.add(at("freshness", "selector"), "%q is not a CSS selector", f.Selector)
				}
			}
		}
	}
	c.validateCreditReports(p)
}

// validOrigin accepts what deface.AllowList understands.
func validOrigin(o string) bool {
	o = strings.TrimSpace(o)
	switch {
	case o == "":
		return false
	case strings.Contains(o, "://"):
		u, err := url.Parse(o)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && (u.Path == "" || u.Path == "/") &&
			u.User == nil && u.RawQuery == ""
	case strings.HasPrefix(o, "*."):
		return len(o) > 2 && !strings.ContainsAny(o[2:], "*/: ")
	}
	return !strings.ContainsAny(o, "*/: ")
}

func (c *Config) validateCreditReports(p *problems) {
	r := c.CreditReports
	at := func(key ...any) []any { return append([]any{"credit_reports"}, key...) }
	if !r.Enabled() {
		if len(r.Codes) > 0 || r.DailySample > 0 {
			p.add(at("url_template"), "is required to check credit reports")
		}
		return
	}
	if !strings.Contains(r.URLTemplate, "{code}") && !strings.Contains(r.URLTemplate, "{name}") {
		p.add(at("url_template"), "must contain {code} or {name}")
	} else if u, err := url.Parse(r.URL("91410900MA45A0001X", "name")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(at("url_template"), "%q is not an http or https URL", r.URLTemplate)
	} else if u.User != nil {
		p.add(at("url_template"), "must not carry credentials")
	}
	seen := map[string]int{}
	for i, code := range r.Codes {
		if err := codes.USCC(code); err != nil && !slices.Contains(c.Publicity.AllowedCodes, code) {
			p.add(at("codes", i), "%q is not a valid unified social credit code: %v", code, err)
		} else if j, dup := seen[code]; dup {
			p.add(at("codes", i), "%q is already credit_reports.codes[%d]", code, j)
		}
		seen[code] = i
	}
	if r.DailySample < 0 || r.DailySample > 1000 {
		p.add(at("daily_sample"), "must be between 0 and 1000, got %d", r.DailySample)
	}
	if len(r.Codes) == 0 && r.DailySample == 0 {
		p.add(at("codes"), "nothing to check: give codes, a daily_sample, or both")
	}
	if r.Interval < Duration(time.Second) {
		p.add(at("interval"), "must be at least 1s, got %s", r.Interval)
	}
	if r.Timeout <= 0 || r.Timeout > r.Interval {
		p.add(at("timeout"), "must be positive and not exceed the interval %s, got %s", r.Interval, r.Timeout)
	}
	if _, err := creditreport.EditionByName(r.Edition); err != nil {
		p.add(at("edition"), "%q is not one of %s", r.Edition, strings.Join(creditreport.Editions(), ", "))
	}
	if r.MaxBodyBytes < 1024 || r.MaxBodyBytes > 1<<30 {
		p.add(at("max_body_bytes"), "must be between 1024 and 1073741824, got %d", r.MaxBodyBytes)
	}
}

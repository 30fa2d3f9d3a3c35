package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
)

var exportKinds = map[string]bool{"penalty": true, "licence": true, "objection": true, "repair": true}

func (c *Config) validateSources(p *problems) {
	pl := c.Platform
	at := func(key ...any) []any { return append([]any{"platform"}, key...) }
	if pl.URL != "" {
		if u, err := url.Parse(pl.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(at("url"), "%q is not an http or https URL", pl.URL)
		} else if u.User != nil {
			p.add(at("url"), "must not carry credentials; use token_file")
		}
		if pl.TokenFile != "" {
			if err := smallFile(pl.TokenFile, maxTokenFile); err != nil {
				p.add(at("token_file"), "cannot be read: %v", err)
			}
		}
	}
	okInterval := p.durationIn(at("interval"), pl.Interval, MinSourceInterval, MaxInterval)
	if pl.Timeout <= 0 || okInterval && pl.Timeout > pl.Interval {
		p.add(at("timeout"), "must be positive and not exceed the interval %s, got %s", pl.Interval, pl.Timeout)
	}
	p.intIn(at("page_size"), int64(pl.PageSize), 1, MaxPageSize)
	for i, s := range pl.Streams {
		if s != "publicity" && s != "cases" {
			p.add(at("streams", i), "%q is not publicity or cases", s)
		}
	}
	if r := c.Cases.RepairRule; r != "2019" && r != "2023" {
		p.add([]any{"cases", "repair_rule"}, "%q is not 2019 or 2023", r)
	}
	p.intIn(at("max_body_bytes"), pl.MaxBodyBytes, MinBodyBytes, MaxPlatformBodyBytes)
	p.intIn([]any{"publicity", "deadline_workdays"}, int64(c.Publicity.DeadlineWorkdays), 1, MaxDeadlineWorkdays)
	seen := map[string]int{}
	for i, e := range c.Publicity.Exports {
		at := func(key ...any) []any { return append([]any{"publicity", "exports", i}, key...) }
		if !targetName.MatchString(e.Name) {
			p.add(at("name"), "%q is not a valid source name (lower-case letters, digits, '-', '_', '.')", e.Name)
		} else if j, dup := seen[e.Name]; dup {
			p.add(at("name"), "%q is already the name of publicity.exports[%d]", e.Name, j)
		} else if e.Name == "platform" {
			p.add(at("name"), `"platform" is the name of the platform API source`)
		}
		seen[e.Name] = i
		if !exportKinds[e.Kind] {
			p.add(at("kind"), "%q is not penalty, licence, objection or repair", e.Kind)
		}
		if st, err := os.Stat(e.Dir); err != nil || !st.IsDir() {
			p.add(at("dir"), "%q is not a readable directory", e.Dir)
		}
		p.durationIn(at("interval"), e.Interval, MinSourceInterval, MaxInterval)
	}
	c.validateReports(p)
	if f := c.Calendar.OverridesFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			p.add([]any{"calendar", "overrides_file"}, "cannot be read: %v", err)
		}
	}
}

var clockTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (c *Config) validateReports(p *problems) {
	r := c.Reports
	at := func(key ...any) []any { return append([]any{"reports"}, key...) }
	if !clockTime.MatchString(r.DeliverAt) {
		p.add(at("deliver_at"), "%q is not a time of day such as 09:00", r.DeliverAt)
	}
	if r.Dir != "" {
		if st, err := os.Stat(r.Dir); err != nil || !st.IsDir() {
			p.add(at("dir"), "%q is not a directory", r.Dir)
		}
	}
	if r.SigningKeyFile != "" {
		if _, err := os.Stat(r.SigningKeyFile); err != nil {
			p.add(at("signing_key_file"), "cannot be read: %v (make one with creditwatch keys generate --out FILE)", err)
		}
	}
	if r.LinkBase != "" {
		if u, err := url.Parse(r.LinkBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(at("link_base"), "%q is not an http or https URL", r.LinkBase)
		}
	}
	names := map[string]int{}
	for i, w := range r.Webhooks {
		wat := func(key ...any) []any { return append([]any{"reports", "webhooks", i}, key...) }
		if !targetName.MatchString(w.Name) {
			p.add(wat("name"), "%q is not a valid webhook name (lower-case letters, digits, '-', '_', '.')", w.Name)
		} else if j, dup := names[w.Name]; dup {
			p.add(wat("name"), "%q is already the name of reports.webhooks[%d]", w.Name, j)
		}
		names[w.Name] = i
		switch {
		case (w.URL == "") == (w.URLFile == ""):
			p.add(wat("url"), "give exactly one of url and url_file")
		case w.URLFile != "":
			if err := smallFile(w.URLFile, maxTokenFile); err != nil {
				p.add(wat("url_file"), "cannot be read: %v", err)
			}
		default:
			if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.add(wat("url"), "is not an http or https URL")
			}
		}
		if w.Format != "wecom" && w.Format != "json" {
			p.add(wat("format"), "%q is not wecom or json", w.Format)
		}
	}
}

// maxTokenFile bounds the token file: it is read whole, and a path such as /dev/zero would
// never end.
const maxTokenFile = 64 << 10

// smallFile checks that path is a regular file of at most max bytes that can be opened.
func smallFile(path string, max int64) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case st.Size() > max:
		return fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

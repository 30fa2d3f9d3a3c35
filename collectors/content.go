package collectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"maps"
	"mime"
	"runtime"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/deface"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
)

// contentCheck looks at what a portal target's pages show, the way an assessor would
// (docs/domain.md, "Defacement and intrusion"): signs of defacement, confirmed on
// confirm_after consecutive probes into a security incident, and, for list pages, the
// newest item's date. It runs after the probe is recorded, only on answers that are HTML
// and ok, and parses a page only when its SHA-256 or the accepted baseline changed.
type contentCheck struct {
	target config.Target
	policy deface.Policy
	deps   Deps
	log    *zap.Logger

	loaded bool
	state  contentState
	// The latest page checked: its SHA-256 and fast hash, the baseline it was checked
	// against, its signs.
	sha    string
	sum    uint64
	baseID int64
	base   *deface.Baseline
	baseAt time.Time // when the baseline in force was accepted
	signs  []deface.Sign
	// cand is the latest page stored as the candidate for baseline accept.
	cand *deface.Baseline
	// newest is the list page's newest item date, "" when none was found; stored is what
	// this process last recorded in the ledger (nil: nothing yet).
	newest string
	stored *string
}

// contentState is what a target's content check keeps in the ledger across restarts: which
// rules' signs are in a streak or confirmed, and since when.
type contentState struct {
	Confirmation deface.Confirmation  `json:"confirmation"`
	Since        map[string]time.Time `json:"since,omitempty"`
}

func newContentCheck(t config.Target, d Deps, log *zap.Logger) *contentCheck {
	return &contentCheck{target: t, deps: d, log: log, policy: deface.Policy{MustNotContain: t.Defacement.MustNotContain,
		Allow: deface.AllowList(t.Defacement.AllowOrigins), StructureThreshold: t.Defacement.StructureThreshold}}
}

// pageChecks bounds the pages parsed and checked at once to the processor count: the
// work is processor-bound, so more at once would be no faster, while each parsed document
// holds several times its page in memory. At the first start of thousands of targets,
// hundreds of first pages arrive together.
var pageChecks = make(chan struct{}, runtime.GOMAXPROCS(0))

// acquirePageCheck waits for a place among the page checks under way; release gives it
// back.
func acquirePageCheck(ctx context.Context) (release func(), err error) {
	select {
	case pageChecks <- struct{}{}:
		return func() { <-pageChecks }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to check the page: %w", context.Cause(ctx))
	}
}

// pageSeed keys the fast hash pages are compared with: random for each process, so that
// no page can be made to collide with another.
var pageSeed = maphash.MakeSeed()

// isHTML reports whether an answer is a page to check.
func isHTML(contentType string, body []byte) bool {
	media, _, _ := mime.ParseMediaType(contentType)
	switch media {
	case "text/html", "application/xhtml+xml":
		return true
	case "", "application/octet-stream", "text/plain":
		head := bytes.ToLower(body[:min(len(body), 1024)])
		return bytes.Contains(head, []byte("<html")) || bytes.Contains(head, []byte("<!doctype html"))
	}
	return false
}

// check looks at one answer with an expected status. expected says it also had the expected
// content; one without it (a maintenance page, or a page replaced by a defacer) is checked
// for the signs a page shows on its own (keywords, foreign origins, hidden links) but not
// against the baseline, and is never a candidate baseline. An error means creditwatch could
// not record what it saw.
//
// baseID is the target's baseline in force, read with the probe (ledger.Recorded).
func (c *contentCheck) check(ctx context.Context, o observation, expected bool, baseID int64) error {
	if err := c.load(ctx); err != nil {
		return err
	}
	if baseID != c.baseID {
		if err := c.loadBaseline(ctx, baseID); err != nil {
			return err
		}
		// A probe that began before the baseline was accepted but is judged against it (its
		// record waited for the group commit that read it) sees the page as of the
		// acceptance: an incident whose signs the new baseline clears ends then, not
		// before it was accepted.
		if c.baseAt.After(o.start) {
			o.start = c.baseAt
		}
	}
	// The page is told from the last by a fast keyed hash; its SHA-256, its identity in the
	// ledger, is taken when it changed.
	sum := maphash.Bytes(pageSeed, o.answer.Body)
	// cand is the page as a candidate baseline, when it was parsed: the parsed document
	// itself is dropped before anything is written.
	var cand *deface.Baseline
	if !expected || c.sha == "" || sum != c.sum || baseID != c.baseID || c.signs == nil {
		release, err := acquirePageCheck(ctx)
		if err != nil {
			return err
		}
		page, err := deface.Parse(o.answer.Body, o.answer.ContentType, c.target.URL)
		if err != nil {
			release()
			// A page no browser would build says nothing creditwatch can judge: counted, kept
			// apart, never a sign.
			c.deps.Store.AddSourceError(c.target.Name, "unreadable_page")
			c.log.Warn("page content not checked: unreadable", zap.Error(err))
			c.publish(true)
			return nil
		}
		c.sha, c.sum, c.baseID = page.SHA256, sum, baseID
		base := c.base
		if !expected {
			base, c.sha = nil, "" // the next expected page is checked afresh
		}
		c.signs = deface.Detect(page, c.policy, base)
		if c.signs == nil {
			c.signs = []deface.Sign{}
		}
		if f := c.target.Freshness; f != nil && expected {
			c.newest = ""
			if d, found, err := deface.NewestDate(page, f.Selector, o.start); err == nil && found {
				c.newest = clock.Date(d)
			}
		}
		if expected {
			b := deface.NewBaseline(page)
			cand = &b
		}
		release()
	}
	if err := c.record(ctx, o, cand); err != nil {
		return err
	}
	if !expected {
		return nil
	}
	return c.freshness(ctx, o.start)
}

func (c *contentCheck) load(ctx context.Context) error {
	if c.loaded {
		return nil
	}
	st, err := c.deps.Ledger.LoadContentState(ctx, c.target.Name)
	if err != nil {
		return err
	}
	if st.State != "" {
		if err := json.Unmarshal([]byte(st.State), &c.state); err != nil {
			c.log.Warn("content state unreadable; starting afresh", zap.Error(err))
			c.state = contentState{}
		}
	}
	if st.Page != nil {
		if b, err := deface.UnmarshalBaseline([]byte(st.Page.JSON)); err == nil {
			c.cand = &b
		}
	}
	c.loaded = true
	return nil
}

func (c *contentCheck) loadBaseline(ctx context.Context, id int64) error {
	c.base, c.baseAt = nil, time.Time{}
	if id == 0 {
		return nil
	}
	b, err := c.deps.Ledger.LoadBaseline(ctx, id)
	if err != nil {
		return err
	}
	base, err := deface.UnmarshalBaseline([]byte(b.JSON))
	if err != nil {
		return fmt.Errorf("baseline %d of %s: %w", id, c.target.Name, err)
	}
	c.base, c.baseAt = &base, b.AcceptedAt
	return nil
}

// record observes the page's signs and writes what changed: the confirmation state, a
// security incident for newly confirmed signs, the ends of incidents whose signs are gone,
// the page as the candidate baseline (and, for a target without one, its first baseline).
// cand is the page as a baseline when it was parsed and had the expected content.
func (c *contentCheck) record(ctx context.Context, o observation, cand *deface.Baseline) error {
	confirmAfter := c.target.Defacement.ConfirmAfter
	next, confirmed := c.state.Confirmation.Observe(c.signs, confirmAfter)
	since := map[string]time.Time{}
	for rule, n := range next.Streak {
		if n == 1 || c.state.Since[rule].IsZero() {
			since[rule] = o.start
		} else {
			since[rule] = c.state.Since[rule]
		}
	}
	newState := contentState{Confirmation: next, Since: since}
	obs := ledger.ContentObservation{Target: c.target.Name, Site: c.target.Site, Scored: c.target.IsScored(), Vantage: c.deps.Vantage,
		URL: c.target.URL, At: o.start, PageSHA256: c.sha}
	changed := !sameState(c.state, newState, confirmAfter)
	if changed {
		b, err := json.Marshal(newState)
		if err != nil {
			return err
		}
		obs.State = string(b)
	}
	for _, s := range confirmed {
		obs.Confirmed = append(obs.Confirmed, ledger.Sign(s))
		if t := since[s.Rule]; obs.FirstSeen.IsZero() || t.Before(obs.FirstSeen) {
			obs.FirstSeen = t
		}
	}
	for rule, ok := range next.Confirmed {
		if ok {
			obs.StillConfirmed = append(obs.StillConfirmed, rule)
		}
	}
	slices.Sort(obs.StillConfirmed)
	if cand != nil {
		if c.baseID == 0 || c.cand == nil || c.cand.Title != cand.Title || !maps.Equal(c.cand.Profile, cand.Profile) {
			js, err := deface.MarshalBaseline(*cand)
			if err != nil {
				return err
			}
			obs.Page = &ledger.PageCandidate{SHA256: c.sha, SeenAt: o.start, Title: cand.Title, JSON: string(js)}
			if c.baseID == 0 {
				obs.FirstBaseline = obs.Page
			}
		}
	}
	if obs.State == "" && obs.Page == nil && len(obs.Confirmed) == 0 {
		c.state = newState
		c.publish(false)
		return nil
	}
	ch, err := c.deps.Ledger.RecordContent(context.WithoutCancel(ctx), obs)
	if err != nil {
		return fmt.Errorf("recording the content of %s: %w", c.target.Name, err)
	}
	c.state = newState
	if obs.Page != nil {
		b, _ := deface.UnmarshalBaseline([]byte(obs.Page.JSON))
		c.cand = &b
	}
	if ch.Baseline != 0 {
		c.log.Info("first page seen taken as the baseline", zap.Int64("baseline", ch.Baseline), zap.String("title", obs.Page.Title))
		if err := c.loadBaseline(ctx, ch.Baseline); err != nil {
			return err
		}
		c.baseID = ch.Baseline
	}
	if s := ch.Opened; s != nil {
		if n, err := c.deps.Ledger.CountSecurityIncidents(ctx); err == nil {
			c.deps.Store.SetSecurityIncidents(n)
		}
		c.log.Warn("security incident opened: defacement confirmed", zap.Int64("security_incident", s.ID),
			zap.Strings("rules", s.Rules), zap.String("page_sha256", c.sha), zap.Int("confirm_after", confirmAfter))
	}
	for _, id := range ch.Ended {
		c.log.Info("security incident ended: its signs are gone", zap.Int64("security_incident", id))
	}
	c.publish(false)
	// A security incident opened or ended, a first page checked (the indicator becomes
	// known): the cards may change.
	c.deps.changed()
	return nil
}

// sameState reports whether two states agree on what matters: which rules are confirmed, and
// the streaks up to confirm_after (a streak that only grows past it changes nothing).
func sameState(a, b contentState, confirmAfter int) bool {
	if len(a.Confirmation.Streak) != len(b.Confirmation.Streak) {
		return false
	}
	for rule, n := range b.Confirmation.Streak {
		if min(a.Confirmation.Streak[rule], confirmAfter) != min(n, confirmAfter) || a.Confirmation.Confirmed[rule] != b.Confirmation.Confirmed[rule] {
			return false
		}
	}
	return true
}

// freshness records a list page's newest item date when it changed, and publishes its age.
func (c *contentCheck) freshness(ctx context.Context, now time.Time) error {
	f := c.target.Freshness
	if f == nil {
		return nil
	}
	if c.stored == nil || *c.stored != c.newest {
		if err := c.deps.Ledger.RecordFreshness(context.WithoutCancel(ctx), ledger.Freshness{Target: c.target.Name, CheckedAt: now,
			NewestOn: c.newest, MaxAgeWorkdays: f.MaxAgeWorkdays}); err != nil {
			return err
		}
		newest := c.newest
		c.stored = &newest
	}
	c.publish(false)
	return nil
}

// publish puts the latest check into the metrics store.
func (c *contentCheck) publish(unreadable bool) {
	m := &metrics.Content{Target: c.target.Name, Confirmed: map[string]int{}, Seen: map[string]int{}}
	if unreadable {
		// The latest readable page's signs stay; the status page says the latest was not.
		if prev, ok := c.deps.Store.Content(c.target.Name); ok {
			*m = *prev
		}
		m.Unreadable = "页面无法解析（嵌套过深等），未检查内容"
		c.deps.Store.SetContent(m)
		return
	}
	for _, s := range c.signs {
		m.Seen[s.Rule]++
		if c.state.Confirmation.Confirmed[s.Rule] {
			m.Confirmed[s.Rule]++
		}
	}
	if f := c.target.Freshness; f != nil {
		m.MaxAge, m.NewestOn = f.MaxAgeWorkdays, c.newest
		if newest, err := clock.ParseDate(c.newest); err == nil {
			if age, err := deface.AgeWorkdays(c.deps.calendar(), newest, c.deps.now()); err == nil {
				m.HasAge, m.Age, m.Stale = true, age, age > f.MaxAgeWorkdays
			}
		} else {
			m.Stale = true // no date on the page: a content warning
		}
	}
	c.deps.Store.SetContent(m)
}

// seedContent continues the security incident counter from the ledger.
func seedContent(ctx context.Context, _ []Collector, d Deps) error {
	n, err := d.Ledger.CountSecurityIncidents(ctx)
	if err != nil {
		return fmt.Errorf("counting security incidents: %w", err)
	}
	d.Store.SetSecurityIncidents(n)
	return nil
}

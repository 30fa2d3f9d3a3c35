package report

import (
	"sort"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// Content is what the portal showed in the month, as of its end: the enterprise credit
// report checks (五(四)2), the security incidents (五(六)) and the list pages' freshness
// (a content warning of 五(四)1, not scored).
type Content struct {
	Reports *Reports `json:"reports,omitempty"`
	// Security lists the security incidents confirmed, recorded or dated in the month, or
	// still going on in it.
	Security []SecurityIncident `json:"security_incidents"`
	// SecurityChecked says pages were fetched and checked in the month.
	SecurityChecked bool       `json:"security_checked"`
	ListPages       []ListPage `json:"list_pages,omitempty"`
}

// Reports is the month's credit report checks.
type Reports struct {
	Checks        int                   `json:"checks"`
	ByResult      map[string]int        `json:"by_result"`
	CodesChecked  int                   `json:"codes_checked"`
	FetchErrors   map[string]int        `json:"fetch_errors"`
	Nonconforming []NonconformingReport `json:"nonconforming"`
}

// NonconformingReport is a code whose report did not conform, with every reason of its first
// non-conforming check of the month.
type NonconformingReport struct {
	Code       string          `json:"code"`
	Name       string          `json:"name"`
	URL        string          `json:"url"`
	CheckedAt  string          `json:"checked_at"`
	Checks     int             `json:"checks"`
	Format     string          `json:"format"`
	BodySHA256 string          `json:"body_sha256"`
	Reasons    []ledger.Reason `json:"reasons"`
}

// SecurityIncident is one security incident, with its evidence and whether it costs the
// indicator.
type SecurityIncident struct {
	ID         int64                    `json:"id"`
	Source     string                   `json:"source"`
	Kind       string                   `json:"kind"`
	Target     string                   `json:"target,omitempty"`
	OccurredOn string                   `json:"occurred_on"`
	Confirmed  string                   `json:"confirmed"` // confirmed by the probes, or recorded by the office
	Ended      string                   `json:"ended,omitempty"`
	Open       bool                     `json:"open,omitempty"` // its signs were still on the page at the month's end
	Rules      []string                 `json:"rules,omitempty"`
	Ref        string                   `json:"ref,omitempty"`
	Note       string                   `json:"note,omitempty"`
	By         string                   `json:"by,omitempty"`
	Evidence   *ledger.SecurityEvidence `json:"evidence,omitempty"`
	Counts     bool                     `json:"counts"`
	Scored     bool                     `json:"scored"`
	// AcceptedBy and AcceptedAt say who accepted the page as a legitimate redesign, and
	// when: from then on the change is no intrusion.
	AcceptedBy string `json:"accepted_by,omitempty"`
	AcceptedAt string `json:"accepted_at,omitempty"`
}

// ListPage is a list page's freshness at the month's end.
type ListPage struct {
	Target         string `json:"target"`
	NewestOn       string `json:"newest_on"`
	AgeWorkdays    int    `json:"age_workdays"` // -1 when unknown
	MaxAgeWorkdays int    `json:"max_age_workdays"`
	Stale          bool   `json:"stale"`
	Unknown        string `json:"unknown,omitempty"`
}

// addContent puts the month's content into the report, from the month's card as of its end.
// Nothing is added for a month without report checks, security incidents or list pages.
func addContent(d *Data, month *card.Card, reportsConfigured bool) {
	c := &Content{Security: []SecurityIncident{}}
	if s := month.Security; s != nil {
		c.SecurityChecked = s.Checked
		for _, i := range s.Incidents {
			c.Security = append(c.Security, securityOf(i))
		}
	}
	if r := month.Reports; r != nil && (r.Checks > 0 || reportsConfigured) {
		c.Reports = &Reports{Checks: r.Checks, ByResult: r.ByResult, CodesChecked: r.CodesChecked, FetchErrors: r.FetchErrors,
			Nonconforming: []NonconformingReport{}}
		for _, n := range r.Nonconforming {
			c.Reports.Nonconforming = append(c.Reports.Nonconforming, NonconformingReport{Code: n.Code, Name: n.Name, URL: n.URL,
				CheckedAt: stamp(n.CheckedAt), Checks: n.Checks, Format: n.Format, BodySHA256: n.BodySHA256, Reasons: n.Reasons})
		}
	}
	watched := map[string]bool{}
	for _, t := range d.Targets {
		watched[t.Name] = true
	}
	for _, p := range month.ListPages {
		if watched[p.Target] {
			c.ListPages = append(c.ListPages, ListPage{Target: p.Target, NewestOn: p.NewestOn, AgeWorkdays: p.Age,
				MaxAgeWorkdays: p.MaxAgeWorkdays, Stale: p.Stale, Unknown: p.Unknown})
		}
	}
	sort.Slice(c.ListPages, func(i, j int) bool { return c.ListPages[i].Target < c.ListPages[j].Target })
	if c.Reports == nil && len(c.Security) == 0 && len(c.ListPages) == 0 {
		return
	}
	d.Content = c
}

func securityOf(i card.SecurityIncident) SecurityIncident {
	s := SecurityIncident{ID: i.ID, Source: i.Source, Kind: i.Kind, Target: i.Target, OccurredOn: i.OccurredOn,
		Confirmed: stamp(i.ConfirmedAt), Open: i.Open(), Rules: i.Rules, Ref: i.Ref, Note: i.Note, By: i.By,
		Evidence: i.Evidence, Counts: i.Counts, Scored: i.Scored}
	if !i.EndedAt.IsZero() {
		s.Ended = stamp(i.EndedAt)
	}
	if b := i.VoidedBy; b != nil {
		s.AcceptedBy, s.AcceptedAt = b.By, stamp(b.AcceptedAt)
	}
	if s.Evidence != nil {
		// In UTC, as every time of the data, whatever zone the probe wrote it in.
		e := *s.Evidence
		e.At, e.FirstSeen = e.At.UTC(), e.FirstSeen.UTC()
		s.Evidence = &e
	}
	return s
}

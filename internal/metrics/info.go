package metrics

import (
	"net/url"

	"github.com/prometheus/client_golang/prometheus"
)

// TargetInfo describes a configured portal target for the alerts' text: the rules are static,
// so the URL an on-call engineer should open comes from creditwatch_target_info.
type TargetInfo struct {
	Target string
	// URL is the target's URL as DisplayURL shows it: no user information, query or fragment.
	URL    string
	Site   string
	Scored bool
}

// Links are the web addresses the alerts link to: the status page and the runbooks.
type Links struct {
	StatusURL  string
	RunbookURL string
}

// DisplayURL is raw without user information, query or fragment, the form of a URL that
// may be shown in a label, an alert or a chat message: a query string may carry a token,
// and a label built from it would take as many values as it has.
func DisplayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	// Built by hand: url.URL.String would percent-encode an internationalised host name.
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// SetTargets publishes the configured portal targets, replacing the previous list; their URLs
// are passed through DisplayURL.
func (s *Store) SetTargets(targets []TargetInfo) {
	out := make([]TargetInfo, len(targets))
	for i, t := range targets {
		t.URL = DisplayURL(t.URL)
		out[i] = t
	}
	s.update(func(st *state) { st.targets = out })
}

// SetLinks publishes the status page's and the runbooks' addresses.
func (s *Store) SetLinks(l Links) {
	s.update(func(st *state) { st.links = l })
}

// Links returns the addresses set with SetLinks.
func (s *Store) Links() Links { return s.cur.Load().links }

// SetSourceRejected publishes how many files of an export directory were rejected (their
// import failed, or they could not be read) and are still there.
func (s *Store) SetSourceRejected(source string, n int) {
	s.update(func(st *state) {
		m := make(map[string]int, len(st.sourceRejected)+1)
		for k, v := range st.sourceRejected {
			m[k] = v
		}
		m[source] = n
		st.sourceRejected = m
	})
}

// KeepRejected forgets the rejected-file counts of export directories no longer configured.
func (s *Store) KeepRejected(sources map[string]bool) {
	s.update(func(st *state) {
		m := make(map[string]int, len(sources))
		for k, v := range st.sourceRejected {
			if sources[k] {
				m[k] = v
			}
		}
		st.sourceRejected = m
	})
}

var (
	targetInfo = desc("target_info",
		"A configured portal target: its URL without user information, query or fragment, its site, and whether the site is the assessed portal (scored); always 1.", "target", "url", "site", "scored")
	webInfo = desc("web_info",
		"Where this creditwatch's status page and runbooks are served (--web.external-url, --web.runbook-url), for the alerts' links; always 1.", "status_url", "runbook_url")
	indicatorInfo = desc("indicator_info",
		"An observable indicator of the catalogue: its short Chinese name and its row in the work ledger; always 1.", "indicator", "name", "ledger")
	incidentOutcome = desc("portal_incident_outcome",
		"The outcome class the target's open incident was confirmed with: 1 for that class, absent when no incident is open.", "target", "outcome")
	sourceRejected = desc("source_files_rejected",
		"Files in an export directory that were rejected (their import failed, or they could not be read) and are still there; refreshed at each scan of the directory.", "source")
)

var infoDescs = []*prometheus.Desc{targetInfo, webInfo, indicatorInfo, incidentOutcome, sourceRejected}

func scored(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func collectInfo(ch emit, st *state) {
	for _, t := range st.targets {
		ch.gauge(targetInfo, 1, t.Target, t.URL, t.Site, scored(t.Scored))
	}
	ch.flush()
	if l := st.links; l.StatusURL != "" || l.RunbookURL != "" {
		ch.gauge(webInfo, 1, l.StatusURL, l.RunbookURL)
	}
	if st.period != nil {
		for _, r := range st.period.Results {
			if r.Observable && r.Name != "" {
				ch.gauge(indicatorInfo, 1, r.ID, r.Name, r.Ledger)
			}
		}
	}
	portals := st.portals.values()
	for _, name := range sortedKeys(portals) {
		if p := portals[name]; p.IncidentOpen && p.OpenOutcome != "" {
			ch.gauge(incidentOutcome, 1, name, p.OpenOutcome)
		}
	}
	for _, src := range sortedKeys(st.sourceRejected) {
		ch.gauge(sourceRejected, float64(st.sourceRejected[src]), src)
	}
}

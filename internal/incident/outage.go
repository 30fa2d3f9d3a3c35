package incident

import (
	"sort"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// Member is one target's incident as outage grouping sees it.
type Member struct {
	ID        int64
	Target    string
	Vantage   string
	Site      string
	Scored    bool
	Start     time.Time
	Confirmed time.Time
	End       time.Time // zero while open
	// Window: an incident of the same site starting within this time after this one ends
	// belongs to the same outage.
	Window time.Duration
}

// Outage is one inaccessibility of a site as the assessors count it: the overlapping
// incidents of its pages, and those following within the window, are one outage however
// many pages are probed.
type Outage struct {
	ID        int64 // the ID of its first incident
	Site      string
	Start     time.Time
	Confirmed time.Time // when the first of its incidents was confirmed
	End       time.Time // zero while any of its incidents is open
	Members   []int64
	Targets   []string // distinct, in order of first incident
	Vantages  []string // that saw it: distinct, in order of first incident
}

// Open reports whether the outage is still going on.
func (o Outage) Open() bool { return o.End.IsZero() }

// Outages groups the incidents of scored sites into outages, ordered by start. Incidents
// of sites that are not scored are left out.
func Outages(ms []Member) []Outage {
	sorted := make([]Member, 0, len(ms))
	for _, m := range ms {
		if m.Scored {
			sorted = append(sorted, m)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].Start.Equal(sorted[j].Start) {
			return sorted[i].Start.Before(sorted[j].Start)
		}
		return sorted[i].ID < sorted[j].ID
	})
	current := map[string]*group{}
	var out []*group
	for _, m := range sorted {
		g := current[m.Site]
		if g == nil || !g.takes(m) {
			g = &group{Outage: Outage{ID: m.ID, Site: m.Site, Start: m.Start, Confirmed: m.Confirmed}, open: m.End.IsZero(), end: m.End}
			current[m.Site] = g
			out = append(out, g)
		}
		g.add(m)
	}
	res := make([]Outage, len(out))
	for i, g := range out {
		res[i] = g.Outage
		if !g.open {
			res[i].End = g.end
		}
	}
	return res
}

type group struct {
	Outage
	open   bool
	end    time.Time // latest end of the members, while none is open
	window time.Duration
	seen   map[string]bool
	saw    map[string]bool
}

// takes reports whether m starts before the group's outage is over plus its window.
func (g *group) takes(m Member) bool {
	return g.open || !m.Start.After(g.end.Add(g.window))
}

func (g *group) add(m Member) {
	if g.seen == nil {
		g.seen, g.saw = map[string]bool{}, map[string]bool{}
	}
	if !g.saw[m.Vantage] {
		g.saw[m.Vantage] = true
		g.Vantages = append(g.Vantages, m.Vantage)
	}
	g.Members = append(g.Members, m.ID)
	if !g.seen[m.Target] {
		g.seen[m.Target] = true
		g.Targets = append(g.Targets, m.Target)
	}
	if m.Confirmed.Before(g.Confirmed) {
		g.Confirmed = m.Confirmed
	}
	g.window = max(g.window, m.Window)
	if m.End.IsZero() {
		g.open = true
	} else if m.End.After(g.end) {
		g.end = m.End
	}
}

// OutageJSON is an outage as creditwatch's JSON outputs give it (the API's status and
// score --format json): times in Asia/Shanghai, end null while open.
type OutageJSON struct {
	ID        int64    `json:"id"`
	Site      string   `json:"site"`
	Start     string   `json:"start"`
	Confirmed string   `json:"confirmed_at"`
	End       *string  `json:"end"`
	Open      bool     `json:"open"`
	Targets   []string `json:"targets"`
	Vantages  []string `json:"vantages"`
	Incidents []int64  `json:"incidents"`
}

// JSON is the outage as the JSON outputs give it.
func (o Outage) JSON() OutageJSON {
	j := OutageJSON{ID: o.ID, Site: o.Site, Start: clock.Stamp(o.Start), Confirmed: clock.Stamp(o.Confirmed), Open: o.Open(),
		Targets: o.Targets, Vantages: o.Vantages, Incidents: o.Members}
	if !o.Open() {
		end := clock.Stamp(o.End)
		j.End = &end
	}
	return j
}

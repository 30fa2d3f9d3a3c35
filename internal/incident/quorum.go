package incident

import (
	"slices"
	"sort"
	"time"
)

// Watch is a stretch of time a vantage watched a site (a watch span of one of its pages).
type Watch struct {
	Site, Vantage string
	From, To      time.Time
}

// Quorum is what scoring an outage seen from several vantages needs.
type Quorum struct {
	// Need is how many vantages must see the site down at the same time (1: any).
	Need int
	// Watches say when each vantage was watching each site: a vantage that was not is not
	// asked, so that the quorum is at most the number of vantages watching.
	Watches []Watch
	// At is the instant the outages are worked out as of: an open incident lasts until it.
	At time.Time
}

// QuorumOutages groups the incidents of scored sites into outages that enough vantages
// saw. A site is down for scoring while at least min(Need, vantages watching) vantages,
// and at least one, have an incident of one of its pages; such stretches that follow
// within the merge window are one outage, as with Outages. An outage starts when the
// quorum was reached; its members are the site's incidents that overlap it, its vantages
// those that saw it, and it was confirmed when as many vantages as the quorum had
// confirmed theirs. An open incident counts only while its vantage watched (a vantage
// that stopped reporting is unknown, not down); an ended one counts whole. With Need 1
// this is Outages.
func QuorumOutages(ms []Member, q Quorum) []Outage {
	if q.Need <= 1 {
		return Outages(ms)
	}
	bySite := map[string][]Member{}
	for _, m := range ms {
		if m.Scored {
			bySite[m.Site] = append(bySite[m.Site], m)
		}
	}
	watches := map[string]map[string][]span{}
	for _, w := range q.Watches {
		if bySite[w.Site] == nil || !w.To.After(w.From) {
			continue
		}
		if watches[w.Site] == nil {
			watches[w.Site] = map[string][]span{}
		}
		watches[w.Site][w.Vantage] = append(watches[w.Site][w.Vantage], span{w.From, w.To})
	}
	var out []Outage
	for site, members := range bySite {
		out = append(out, siteOutages(site, members, watches[site], q)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

type span struct{ from, to time.Time }

func (s span) covers(a, b time.Time) bool { return !s.from.After(a) && !s.to.Before(b) }

func anyCovers(ss []span, a, b time.Time) bool {
	for _, s := range ss {
		if s.covers(a, b) {
			return true
		}
	}
	return false
}

func siteOutages(site string, members []Member, watched map[string][]span, q Quorum) []Outage {
	sort.SliceStable(members, func(i, j int) bool {
		if !members[i].Start.Equal(members[j].Start) {
			return members[i].Start.Before(members[j].Start)
		}
		return members[i].ID < members[j].ID
	})
	// Each vantage's stretches down, and the instants where anything changes.
	down := map[string][]span{}
	var vantages []string
	cuts := []time.Time{}
	for _, m := range members {
		end := m.End
		if end.IsZero() {
			end = q.At
		}
		if !end.After(m.Start) {
			continue
		}
		if _, ok := down[m.Vantage]; !ok {
			vantages = append(vantages, m.Vantage)
		}
		down[m.Vantage] = append(down[m.Vantage], span{m.Start, end})
		cuts = append(cuts, m.Start, end)
	}
	for v, ss := range watched {
		if _, ok := down[v]; !ok {
			vantages = append(vantages, v)
		}
		for _, s := range ss {
			cuts = append(cuts, s.from, s.to)
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
	cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })
	// An open incident counts while its vantage watched; an ended one counts whole.
	openDown := func(v string, a, b time.Time) bool {
		for _, m := range members {
			if m.Vantage == v && m.End.IsZero() && !m.Start.After(a) && !q.At.Before(b) {
				return anyCovers(watched[v], a, b)
			}
		}
		return false
	}
	endedDown := func(v string, a, b time.Time) bool {
		for _, m := range members {
			if m.Vantage == v && !m.End.IsZero() && !m.Start.After(a) && !m.End.Before(b) {
				return true
			}
		}
		return false
	}
	var stretches []span
	needAt := map[time.Time]int{}
	for i := 0; i+1 < len(cuts); i++ {
		a, b := cuts[i], cuts[i+1]
		nDown, nWatching := 0, 0
		for _, v := range vantages {
			d := endedDown(v, a, b) || openDown(v, a, b)
			if d {
				nDown++
			}
			if d || anyCovers(watched[v], a, b) {
				nWatching++
			}
		}
		need := max(1, min(q.Need, nWatching))
		if nDown == 0 || nDown < need {
			continue
		}
		if n := len(stretches); n > 0 && stretches[n-1].to.Equal(a) {
			stretches[n-1].to = b
			continue
		}
		stretches = append(stretches, span{a, b})
		needAt[a] = need
	}
	// Stretches within the merge window of the members they overlap are one outage.
	var out []Outage
	var cur *Outage
	var curEnd time.Time
	var window time.Duration
	var curNeed int
	for _, s := range stretches {
		if cur != nil && !s.from.After(curEnd.Add(window)) {
			curEnd = s.to
		} else {
			if cur != nil {
				out = append(out, finish(*cur, curEnd, curNeed, members, q))
			}
			cur, curEnd, window, curNeed = &Outage{Site: site, Start: s.from}, s.to, 0, needAt[s.from]
		}
		for _, m := range members {
			if overlaps(m, s, q.At) {
				window = max(window, m.Window)
			}
		}
	}
	if cur != nil {
		out = append(out, finish(*cur, curEnd, curNeed, members, q))
	}
	return out
}

func overlaps(m Member, s span, at time.Time) bool {
	end := m.End
	if end.IsZero() {
		end = at
	}
	return m.Start.Before(s.to) && !end.Before(s.from)
}

// finish fills an outage from the members that overlap it; need is the quorum at its start.
func finish(o Outage, end time.Time, need int, members []Member, q Quorum) Outage {
	firstConfirmed := map[string]time.Time{}
	open := false
	seen, saw := map[string]bool{}, map[string]bool{}
	for _, m := range members {
		if !overlaps(m, span{o.Start, end}, q.At) {
			continue
		}
		if o.ID == 0 {
			o.ID = m.ID
		}
		o.Members = append(o.Members, m.ID)
		if !seen[m.Target] {
			seen[m.Target] = true
			o.Targets = append(o.Targets, m.Target)
		}
		if !saw[m.Vantage] {
			saw[m.Vantage] = true
			o.Vantages = append(o.Vantages, m.Vantage)
		}
		if c, ok := firstConfirmed[m.Vantage]; !ok || m.Confirmed.Before(c) {
			firstConfirmed[m.Vantage] = m.Confirmed
		}
		open = open || (m.End.IsZero() && !end.Before(q.At))
	}
	confirmed := make([]time.Time, 0, len(firstConfirmed))
	for _, c := range firstConfirmed {
		confirmed = append(confirmed, c)
	}
	sort.Slice(confirmed, func(i, j int) bool { return confirmed[i].Before(confirmed[j]) })
	if n := min(need, len(confirmed)); n > 0 {
		o.Confirmed = confirmed[n-1]
	}
	if o.Confirmed.Before(o.Start) {
		o.Confirmed = o.Start
	}
	if !open {
		o.End = end
	}
	return o
}

// Package timeset is arithmetic on sets of time: unions, intersections and differences of
// half-open intervals [From, To), for the time a target was watched, down or unknown.
package timeset

import (
	"sort"
	"time"
)

// Interval is [From, To).
type Interval struct{ From, To time.Time }

// Set is a sorted list of disjoint, non-empty intervals.
type Set []Interval

// Of builds a set from intervals in any order, overlapping or not; empty ones are dropped.
func Of(ivs ...Interval) Set {
	var in []Interval
	for _, iv := range ivs {
		if iv.To.After(iv.From) {
			in = append(in, iv)
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].From.Before(in[j].From) })
	var out Set
	for _, iv := range in {
		if n := len(out); n > 0 && !iv.From.After(out[n-1].To) {
			if iv.To.After(out[n-1].To) {
				out[n-1].To = iv.To
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Union is every instant in s or t.
func (s Set) Union(t Set) Set { return Of(append(append([]Interval{}, s...), t...)...) }

// Intersect is every instant in both s and t.
func (s Set) Intersect(t Set) Set {
	var out Set
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		from, to := later(s[i].From, t[j].From), earlier(s[i].To, t[j].To)
		if to.After(from) {
			out = append(out, Interval{from, to})
		}
		if s[i].To.Before(t[j].To) {
			i++
		} else {
			j++
		}
	}
	return out
}

// Minus is every instant in s and not in t.
func (s Set) Minus(t Set) Set {
	var out Set
	j := 0
	for _, iv := range s {
		from := iv.From
		for j < len(t) && !t[j].To.After(from) {
			j++
		}
		for k := j; k < len(t) && t[k].From.Before(iv.To); k++ {
			if t[k].From.After(from) {
				out = append(out, Interval{from, t[k].From})
			}
			from = later(from, t[k].To)
		}
		if iv.To.After(from) {
			out = append(out, Interval{from, iv.To})
		}
	}
	return out
}

// Within clips s to [from, to).
func (s Set) Within(from, to time.Time) Set { return s.Intersect(Set{{from, to}}) }

// Duration is the total length of s.
func (s Set) Duration() time.Duration {
	var d time.Duration
	for _, iv := range s {
		d += iv.To.Sub(iv.From)
	}
	return d
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

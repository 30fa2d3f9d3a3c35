package incident

import (
	"reflect"
	"testing"
	"time"
)

func TestQuorumOutages(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	inc := func(id int64, vantage string, from, to time.Time) Member {
		return Member{ID: id, Target: "home", Vantage: vantage, Site: "portal", Scored: true, Start: from,
			Confirmed: from.Add(time.Minute), End: to}
	}
	watching := func(until map[string]time.Time) []Watch {
		var ws []Watch
		for _, v := range []string{"a", "b", "c"} {
			end := at(12, 0)
			if u, ok := until[v]; ok {
				end = u
			}
			ws = append(ws, Watch{Site: "portal", Vantage: v, From: at(9, 0), To: end})
		}
		return ws
	}
	type want struct {
		start, confirmed, end time.Time // end zero: open
		members               []int64
		vantages              []string
	}
	tests := map[string]struct {
		members []Member
		need    int
		watches []Watch
		want    []want
	}{
		"one vantage of three is not a quorum of 2": {
			members: []Member{inc(1, "a", at(10, 10), at(10, 40))},
			need:    2, watches: watching(nil),
		},
		"two overlapping vantages: scored from when the second saw it until the first recovered": {
			members: []Member{inc(1, "a", at(10, 10), at(10, 40)), inc(2, "b", at(10, 20), at(10, 50))},
			need:    2, watches: watching(nil),
			want: []want{{at(10, 20), at(10, 21), at(10, 40), []int64{1, 2}, []string{"a", "b"}}},
		},
		"all three: one outage, seen by a, b and c, confirmed by the second": {
			members: []Member{inc(1, "a", at(10, 10), at(10, 30)), inc(2, "b", at(10, 12), at(10, 30)), inc(3, "c", at(10, 15), at(10, 30))},
			need:    2, watches: watching(nil),
			want: []want{{at(10, 12), at(10, 13), at(10, 30), []int64{1, 2, 3}, []string{"a", "b", "c"}}},
		},
		"the only vantage watching is the quorum": {
			members: []Member{inc(1, "a", at(10, 10), at(10, 40))},
			need:    2, watches: watching(map[string]time.Time{"b": at(10, 0), "c": at(10, 0)}),
			want: []want{{at(10, 10), at(10, 11), at(10, 40), []int64{1}, []string{"a"}}},
		},
		"an open incident of a vantage that stopped reporting counts while it watched": {
			members: []Member{inc(1, "a", at(10, 10), time.Time{}), inc(2, "b", at(10, 20), at(10, 50))},
			need:    2, watches: watching(map[string]time.Time{"a": at(10, 30)}),
			want: []want{{at(10, 20), at(10, 21), at(10, 30), []int64{1, 2}, []string{"a", "b"}}},
		},
		"open while the quorum still sees it": {
			members: []Member{inc(1, "a", at(10, 10), time.Time{}), inc(2, "b", at(10, 20), time.Time{})},
			need:    2, watches: watching(nil),
			want: []want{{at(10, 20), at(10, 21), time.Time{}, []int64{1, 2}, []string{"a", "b"}}},
		},
		"stretches within the merge window are one outage": {
			members: []Member{
				withWindow(inc(1, "a", at(10, 0), at(10, 10)), 10*time.Minute), withWindow(inc(2, "b", at(10, 0), at(10, 10)), 10*time.Minute),
				withWindow(inc(3, "a", at(10, 15), at(10, 20)), 10*time.Minute), withWindow(inc(4, "b", at(10, 15), at(10, 20)), 10*time.Minute),
			},
			need: 2, watches: watching(nil),
			want: []want{{at(10, 0), at(10, 1), at(10, 20), []int64{1, 2, 3, 4}, []string{"a", "b"}}},
		},
		"beyond the merge window, two": {
			members: []Member{
				inc(1, "a", at(10, 0), at(10, 10)), inc(2, "b", at(10, 0), at(10, 10)),
				inc(3, "a", at(10, 15), at(10, 20)), inc(4, "b", at(10, 15), at(10, 20)),
			},
			need: 2, watches: watching(nil),
			want: []want{
				{at(10, 0), at(10, 1), at(10, 10), []int64{1, 2}, []string{"a", "b"}},
				{at(10, 15), at(10, 16), at(10, 20), []int64{3, 4}, []string{"a", "b"}},
			},
		},
		"quorum 1: any vantage": {
			members: []Member{inc(1, "a", at(10, 10), at(10, 40)), inc(2, "b", at(10, 20), at(10, 50))},
			need:    1, watches: watching(nil),
			want: []want{{at(10, 10), at(10, 11), at(10, 50), []int64{1, 2}, []string{"a", "b"}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := QuorumOutages(tc.members, Quorum{Need: tc.need, Watches: tc.watches, At: at(12, 0)})
			if len(got) != len(tc.want) {
				t.Fatalf("%d outages, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				o := got[i]
				if !o.Start.Equal(w.start) || !o.Confirmed.Equal(w.confirmed) || !o.End.Equal(w.end) ||
					!reflect.DeepEqual(o.Members, w.members) || !reflect.DeepEqual(o.Vantages, w.vantages) || o.ID != w.members[0] {
					t.Errorf("outage %d = %+v, want %+v", i, o, w)
				}
			}
		})
	}
}

func withWindow(m Member, w time.Duration) Member { m.Window = w; return m }

package timeset

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func iv(a, b int) Interval {
	return Interval{t0.Add(time.Duration(a) * time.Minute), t0.Add(time.Duration(b) * time.Minute)}
}

func TestOperations(t *testing.T) {
	s := Of(iv(0, 10), iv(5, 20), iv(30, 40), iv(50, 50))
	if len(s) != 2 || s.Duration() != 30*time.Minute {
		t.Fatalf("Of merged to %v", s)
	}
	tests := map[string]struct {
		got  Set
		want time.Duration
	}{
		"intersect":        {s.Intersect(Of(iv(15, 35))), 10 * time.Minute},
		"minus":            {s.Minus(Of(iv(15, 35))), 20 * time.Minute},
		"minus everything": {s.Minus(Of(iv(-5, 100))), 0},
		"union":            {s.Union(Of(iv(20, 30))), 40 * time.Minute},
		"within":           {s.Within(iv(0, 0).From.Add(10*time.Minute), iv(0, 35).To), 15 * time.Minute},
	}
	for name, tc := range tests {
		if d := tc.got.Duration(); d != tc.want {
			t.Errorf("%s = %v (%v), want %v", name, tc.got, d, tc.want)
		}
	}
}

// The operations agree with counting minutes one by one.
func TestAgainstMinuteCounting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := func() (Set, map[int]bool) {
		var ivs []Interval
		in := map[int]bool{}
		for k := 0; k < 5; k++ {
			a := r.IntN(100)
			b := a + r.IntN(20)
			ivs = append(ivs, iv(a, b))
			for m := a; m < b; m++ {
				in[m] = true
			}
		}
		return Of(ivs...), in
	}
	for n := 0; n < 200; n++ {
		s, sm := random()
		u, um := random()
		count := func(f func(int) bool) time.Duration {
			c := 0
			for m := 0; m < 130; m++ {
				if f(m) {
					c++
				}
			}
			return time.Duration(c) * time.Minute
		}
		if got, want := s.Intersect(u).Duration(), count(func(m int) bool { return sm[m] && um[m] }); got != want {
			t.Fatalf("intersect %v %v = %v, want %v", s, u, got, want)
		}
		if got, want := s.Minus(u).Duration(), count(func(m int) bool { return sm[m] && !um[m] }); got != want {
			t.Fatalf("minus %v %v = %v, want %v", s, u, got, want)
		}
		if got, want := s.Union(u).Duration(), count(func(m int) bool { return sm[m] || um[m] }); got != want {
			t.Fatalf("union %v %v = %v, want %v", s, u, got, want)
		}
	}
}

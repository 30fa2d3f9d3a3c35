package metrics

import (
	"maps"
	"sync/atomic"
)

// cells holds the latest value of each key (a target's probe, a collector's run). The key
// set is copied on write, which happens when a target is added or removed; a new value of
// a known key is swapped into its cell in place, without copying the set: a probe costs the
// same with 20,000 targets as with one.
type cells[K comparable, V any] map[K]*atomic.Pointer[V]

// get returns the latest value of k.
func (c cells[K, V]) get(k K) (*V, bool) {
	cell := c[k]
	if cell == nil {
		return nil, false
	}
	v := cell.Load()
	return v, v != nil
}

// with returns a copy of the set with v in k's cell, a new cell if k had none.
func (c cells[K, V]) with(k K, v *V) cells[K, V] {
	if cell := c[k]; cell != nil {
		cell.Store(v)
		return c
	}
	out := make(cells[K, V], len(c)+1)
	maps.Copy(out, c)
	cell := &atomic.Pointer[V]{}
	cell.Store(v)
	out[k] = cell
	return out
}

// keep returns the set of the keys keep accepts, sharing their cells.
func (c cells[K, V]) keep(keep func(K) bool) cells[K, V] {
	out := make(cells[K, V], len(c))
	for k, cell := range c {
		if keep(k) {
			out[k] = cell
		}
	}
	return out
}

// values returns the latest values, by key.
func (c cells[K, V]) values() map[K]*V {
	out := make(map[K]*V, len(c))
	for k, cell := range c {
		if v := cell.Load(); v != nil {
			out[k] = v
		}
	}
	return out
}

// set publishes v for k: in place when k has a cell, else by copying the set under the
// store's writer lock.
func set[K comparable, V any](s *Store, field func(*state) *cells[K, V], k K, v *V) {
	if cell := (*field(s.cur.Load()))[k]; cell != nil {
		cell.Store(v)
		return
	}
	s.update(func(st *state) {
		f := field(st)
		*f = f.with(k, v)
	})
}

package metrics

import (
	"testing"
	"time"
)

func TestSourceState(t *testing.T) {
	s := NewStore()
	at := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	s.AddSourceError("platform", "timeout")
	s.AddSourceError("platform", "timeout")
	s.AddSourceError("penalties", "unreadable_file")
	s.SourcePolled("platform", at, map[string]int{"penalty": 3})
	got := s.Source("platform")
	if !got.LastSuccess.Equal(at) || got.Errors["timeout"] != 2 || len(got.Errors) != 1 || got.Received["penalty"] != 3 {
		t.Errorf("platform: %+v", got)
	}
	if got := s.Source("penalties"); !got.LastSuccess.IsZero() || got.Errors["unreadable_file"] != 1 {
		t.Errorf("penalties: %+v", got)
	}
}

package metrics

import "time"

// SourceState is what the store knows of a data source since start: for the status page.
type SourceState struct {
	LastSuccess time.Time          // the last complete poll; zero if none since start
	Errors      map[string]float64 // failures by reason since start
	Received    map[string]float64 // record versions received by kind since start
}

// Source returns a data source's state since start.
func (s *Store) Source(source string) SourceState {
	st := s.cur.Load()
	out := SourceState{LastSuccess: st.sourceOK[source], Errors: map[string]float64{}, Received: map[string]float64{}}
	for k, v := range st.sourceErrors {
		if k.source == source {
			out.Errors[k.label] = v
		}
	}
	for k, v := range st.sourceRecords {
		if k.source == source {
			out.Received[k.label] = v
		}
	}
	return out
}

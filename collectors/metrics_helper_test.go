package collectors

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/creditwatch/creditwatch/internal/metrics"
)

// testutilCollect gathers the store's series as "name/reason" → value for the source
// error counters (the reason label), enough for these tests.
func testutilCollect(s *metrics.Store) map[string]float64 {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(s))
	fams, _ := reg.Gather()
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			key := f.GetName()
			for _, l := range m.Label {
				if l.GetName() == "reason" {
					key += "/" + l.GetValue()
				}
			}
			out[key] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.GetGauge().GetValue()
}

// series gathers the store's series as `name{label="value",…}` (labels sorted) → value.
func series(s *metrics.Store) map[string]float64 {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(s))
	fams, _ := reg.Gather()
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"=\""+l.GetValue()+"\"")
			}
			key := f.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = value(m)
		}
	}
	return out
}

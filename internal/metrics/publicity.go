package metrics

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// MaxDepartments bounds the department label; the rest are summed into OtherDepartments.
const MaxDepartments = 200

// OtherDepartments is the department label of the departments past MaxDepartments.
const OtherDepartments = "其他单位"

// Departments are a card's publicity departments with those past MaxDepartments (the ones
// with the fewest records) folded into OtherDepartments, so that the label stays bounded.
func Departments(p *card.Publicity) []ledger.DepartmentFigures {
	byKind := map[publicity.Kind][]ledger.DepartmentFigures{}
	for _, d := range p.Departments {
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}
	var out []ledger.DepartmentFigures
	for _, list := range byKind {
		if len(list) <= MaxDepartments {
			out = append(out, list...)
			continue
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Total > list[j].Total })
		rest := &card.Publicity{Departments: list[MaxDepartments-1:]}
		other := rest.ByKind()[0]
		other.Department = OtherDepartments
		out = append(out, list[:MaxDepartments-1]...)
		out = append(out, other)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Kind < out[j].Kind || out[i].Kind == out[j].Kind && out[i].Department < out[j].Department
	})
	return out
}

type sourceKey struct{ source, label string }

// AddSourceError counts a failure of a data source by a bounded reason.
func (s *Store) AddSourceError(source, reason string) {
	s.update(func(st *state) {
		m := make(map[sourceKey]float64, len(st.sourceErrors)+1)
		for k, v := range st.sourceErrors {
			m[k] = v
		}
		m[sourceKey{source, reason}]++
		st.sourceErrors = m
	})
}

// SourcePolled records a completed poll of a source and the records it brought per kind.
func (s *Store) SourcePolled(source string, at time.Time, received map[string]int) {
	s.update(func(st *state) {
		ok := make(map[string]time.Time, len(st.sourceOK)+1)
		for k, v := range st.sourceOK {
			ok[k] = v
		}
		ok[source] = at
		st.sourceOK = ok
		rec := make(map[sourceKey]float64, len(st.sourceRecords)+len(received))
		for k, v := range st.sourceRecords {
			rec[k] = v
		}
		for kind, n := range received {
			rec[sourceKey{source, kind}] += float64(n)
		}
		st.sourceRecords = rec
	})
}

var (
	pubRecords = desc("publicity_records",
		"Double-publicity records decided in the assessment period, by state as of today (due, reported, compliant, timely, due_soon); refreshed after each poll and at midnight.", "kind", "department", "state")
	pubUpload = desc("publicity_upload_ratio",
		"Records reported ÷ records due (1 when nothing is due).", "kind", "department")
	pubCompliance = desc("publicity_compliance_ratio",
		"Reported records passing every rule ÷ records reported.", "kind", "department")
	pubTimeliness = desc("publicity_timeliness_ratio",
		"Records reported by their deadline (7 working days after the decision) ÷ records reported.", "kind", "department")
	pubViolations = desc("publicity_violations",
		"Rule violations in the records decided in the assessment period, by rule.", "kind", "department", "rule")
	usccRatio = desc("uscc_error_ratio",
		"(Invalid + duplicated unified social credit codes) ÷ distinct codes of the subjects of the period's publicity records.")
	usccCodes = desc("uscc_codes",
		"Distinct subject codes in publicity records, and how many of them are invalid or duplicated.", "state")
	sourceErrors = desc("source_errors_total",
		"Failures of a data source by reason (timeout, connect_error, http_status, unauthorized, bad_json, body_too_large, bad_record, unreadable_file, unreadable_dir).", "source", "reason")
	sourceOK = desc("source_last_success_timestamp_seconds",
		"Time of a data source's last complete poll.", "source")
	sourceRecords = desc("source_records_received_total",
		"Record versions received from a data source since start.", "source", "kind")
)

var publicityDescs = []*prometheus.Desc{pubRecords, pubUpload, pubCompliance, pubTimeliness, pubViolations,
	usccRatio, usccCodes, sourceErrors, sourceOK, sourceRecords}

func publicityOf(st *state) *card.Publicity {
	if st.period == nil || st.period.Publicity == nil || !st.period.Publicity.Watched {
		return nil
	}
	return st.period.Publicity
}

func collectPublicity(ch emit, st *state) {
	// Without any record there is nothing to measure: absent, not a reassuring zero.
	if p := publicityOf(st); p != nil {
		for _, d := range Departments(p) {
			kind := string(d.Kind)
			for state, n := range map[string]int{"due": d.Due, "reported": d.Reported, "compliant": d.Compliant,
				"timely": d.Timely, "due_soon": d.DueSoon} {
				ch.gauge(pubRecords, float64(n), kind, d.Department, state)
			}
			ch.gauge(pubUpload, d.UploadRatio, kind, d.Department)
			ch.gauge(pubCompliance, d.ComplianceRatio, kind, d.Department)
			ch.gauge(pubTimeliness, d.TimelinessRatio, kind, d.Department)
			for _, rule := range publicity.Rules {
				ch.gauge(pubViolations, float64(d.ViolationsByRule[rule]), kind, d.Department, rule)
			}
		}
		ch.gauge(usccRatio, p.Codes.ErrorRate())
		ch.gauge(usccCodes, float64(p.Codes.Distinct), "distinct")
		ch.gauge(usccCodes, float64(p.Codes.Invalid), "invalid")
		ch.gauge(usccCodes, float64(p.Codes.Duplicated), "duplicated")
	}
	for k, v := range st.sourceErrors {
		ch.counter(sourceErrors, v, k.source, k.label)
	}
	for k, v := range st.sourceRecords {
		ch.counter(sourceRecords, v, k.source, k.label)
	}
	for src, at := range st.sourceOK {
		ch.gauge(sourceOK, float64(at.UnixMilli())/1e3, src)
	}
}

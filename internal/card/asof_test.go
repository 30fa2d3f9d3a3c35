package card

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// event is one thing the ledger is told, at the time it happened.
type event struct {
	at    time.Time
	apply func(*testing.T, *ledger.Ledger)
}

// randomHistory is two months of a city's platform: records decided, reported later,
// corrected later; objections and repairs received and closed later; two pages probed
// every six hours with outages.
func randomHistory(r *rand.Rand) []event {
	begin := at("2026-09-01 00:00")
	span := 61 * 24 * time.Hour
	when := func() time.Time { return begin.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Minute) }
	dayOf := func(t time.Time) string { return clock.Date(t) }
	var evs []event
	for i := 0; i < 40; i++ {
		id := fmt.Sprintf("R%d", i)
		received := when()
		decided := received.AddDate(0, 0, -r.IntN(20))
		a := assessed([]string{"环境局", "市监局"}[i%2], dayOf(decided), "", false)
		a.SubjectCode, a.SubjectName, a.CodeValid = fmt.Sprintf("C%02d", i%7), fmt.Sprintf("公司%d", i%9), i%11 != 0
		evs = append(evs, storeEvent(received, id, a))
		if r.IntN(3) > 0 { // reported later
			rep := received.Add(time.Duration(r.IntN(15*24)) * time.Hour)
			b := assessed(a.Department, dayOf(decided), dayOf(rep), r.IntN(4) > 0)
			b.SubjectCode, b.SubjectName, b.CodeValid = a.SubjectCode, a.SubjectName, a.CodeValid
			evs = append(evs, storeEvent(rep, id, b))
			if r.IntN(3) == 0 { // corrected later
				c := b
				c.Compliant, c.Violations = true, nil
				evs = append(evs, storeEvent(rep.Add(time.Duration(1+r.IntN(10*24))*time.Hour), id, c))
			}
		}
	}
	for i := 0; i < 12; i++ {
		id := fmt.Sprintf("Y%d", i)
		received := when()
		fields := map[string]string{cases.FieldObjectionID: id, cases.FieldObjectionDoc: fmt.Sprintf("R%d", r.IntN(40)),
			cases.FieldReceived: dayOf(received), cases.FieldValid: map[bool]string{true: "是", false: "否"}[r.IntN(2) == 0]}
		evs = append(evs, caseEvent(received, cases.KindObjection, id, fields))
		closed := received.Add(time.Duration(r.IntN(12*24)) * time.Hour)
		done := map[string]string{cases.FieldClosed: dayOf(closed), cases.FieldSynced: closed.Add(time.Duration(r.IntN(30)) * time.Hour).Format(time.RFC3339)}
		evs = append(evs, caseEvent(closed, cases.KindObjection, id, merge(fields, done)))
	}
	for i := 0; i < 8; i++ {
		id := fmt.Sprintf("X%d", i)
		applied := when()
		fields := repairCase(id, dayOf(applied), "").Fields
		evs = append(evs, caseEvent(applied, cases.KindRepair, id, fields))
		decided := applied.Add(time.Duration(r.IntN(8*24)) * time.Hour)
		evs = append(evs, caseEvent(decided, cases.KindRepair, id, repairCase(id, dayOf(applied), dayOf(decided)).Fields))
	}
	for _, target := range []string{"home", "list"} {
		for p := begin; p.Before(begin.Add(span)); p = p.Add(6 * time.Hour) {
			evs = append(evs, probeEvent(p, target, r.IntN(7) == 0))
		}
	}
	evs = append(evs, contentHistory(r, when)...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	return evs
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func storeEvent(t time.Time, id string, a publicity.Assessment) event {
	return event{t, func(tt *testing.T, l *ledger.Ledger) {
		rec := ledger.PublicityRecord{Kind: "penalty", ID: id, Source: "test", UpdatedAt: t, Assessment: a, Fields: map[string]string{}}
		if err := l.StorePublicity(context.Background(), []ledger.PublicityRecord{rec}, nil); err != nil {
			tt.Fatal(err)
		}
	}}
}

func caseEvent(t time.Time, kind, id string, fields map[string]string) event {
	return event{t, func(tt *testing.T, l *ledger.Ledger) {
		c := ledger.CaseRecord{Kind: kind, ID: id, Source: "test", UpdatedAt: t, Fields: fields}
		if err := l.StoreCases(context.Background(), []ledger.CaseRecord{c}, nil); err != nil {
			tt.Fatal(err)
		}
	}}
}

func probeEvent(t time.Time, target string, failed bool) event {
	return event{t, func(tt *testing.T, l *ledger.Ledger) {
		p := ledger.Probe{Target: target, Vantage: "test", StartedAt: t, Failed: failed, Outcome: "ok"}
		sc := ledger.Scoring{Site: "portal", Scored: true, MergeWindow: 8 * time.Hour}
		if _, _, err := l.RecordProbe(context.Background(), p, incident.Policy{OpenAfter: 2, CloseAfter: 2}, sc); err != nil {
			tt.Fatal(err)
		}
	}}
}

// contentHistory is what the portal showed: report checks, defacements confirmed on the home
// page and gone later, redesigns accepted, incidents the office records, list page dates.
func contentHistory(r *rand.Rand, when func() time.Time) []event {
	var evs []event
	results := []string{ledger.ReportConforming, ledger.ReportConforming, ledger.ReportNonconforming, ledger.ReportFetchError}
	for i := 0; i < 30; i++ {
		c := ledger.ReportCheck{Code: fmt.Sprintf("C%02d", r.IntN(8)), CheckedAt: when(), Result: results[r.IntN(len(results))]}
		evs = append(evs, event{c.CheckedAt, func(tt *testing.T, l *ledger.Ledger) {
			if _, err := l.RecordReportCheck(context.Background(), c, at("2026-01-01 00:00")); err != nil {
				tt.Fatal(err)
			}
		}})
	}
	rules := []string{"keyword", "title_changed", "structure_changed", "hidden_link"}
	for i := 0; i < 6; i++ {
		confirmed, rule := when(), rules[r.IntN(len(rules))]
		gone := confirmed.Add(time.Duration(1+r.IntN(72)) * time.Hour)
		evs = append(evs, contentEvent(confirmed, rule, rule), contentEvent(gone, ""))
	}
	for i := 0; i < 3; i++ {
		accepted := when()
		evs = append(evs, event{accepted, func(tt *testing.T, l *ledger.Ledger) {
			page := &ledger.PageCandidate{SHA256: "ab", SeenAt: accepted, Title: "t", JSON: "{}"}
			if _, err := l.RecordContent(context.Background(), ledger.ContentObservation{Target: "home", At: accepted, Page: page}); err != nil {
				tt.Fatal(err)
			}
			if _, err := l.AcceptLatestPage(context.Background(), "home", "李四", accepted); err != nil {
				tt.Fatal(err)
			}
		}})
	}
	for i := 0; i < 2; i++ {
		recorded := when()
		dated := recorded.AddDate(0, 0, -r.IntN(40))
		evs = append(evs, event{recorded, func(tt *testing.T, l *ledger.Ledger) {
			if _, err := l.RecordSecurityIncident(context.Background(), ledger.SecurityRecord{Date: dated, Kind: ledger.SecurityNotified,
				Ref: "通报", By: "张三", At: recorded}); err != nil {
				tt.Fatal(err)
			}
		}})
	}
	for i := 0; i < 10; i++ {
		seen := when()
		f := ledger.Freshness{Target: []string{"news", "sgs"}[i%2], CheckedAt: seen, NewestOn: clock.Date(seen.AddDate(0, 0, -r.IntN(30))), MaxAgeWorkdays: 10}
		evs = append(evs, event{seen, func(tt *testing.T, l *ledger.Ledger) {
			if err := l.RecordFreshness(context.Background(), f); err != nil {
				tt.Fatal(err)
			}
		}})
	}
	return evs
}

// contentEvent is a check of the home page that confirms rule ("" for none) and leaves still
// confirmed.
func contentEvent(t time.Time, rule string, still ...string) event {
	return event{t, func(tt *testing.T, l *ledger.Ledger) {
		o := ledger.ContentObservation{Target: "home", Site: "portal", Scored: true, At: t, FirstSeen: t, StillConfirmed: still}
		if rule != "" {
			o.Confirmed = []ledger.Sign{{Rule: rule, Evidence: rule}}
		}
		if _, err := l.RecordContent(context.Background(), o); err != nil {
			tt.Fatal(err)
		}
	}}
}

// comparable is what a card says, without the ledger's bookkeeping.
type comparable struct {
	Results   []any
	Outages   []incident.Outage
	Publicity *Publicity
	Summary   cases.Summary
	Reports   *Reports
	Security  []any
	ListPages []ListPage
}

func view(c *Card) comparable {
	out := comparable{Outages: c.Portal.Outages, Publicity: c.Publicity, Summary: c.Cases.Summary, Reports: c.Reports,
		ListPages: c.ListPages}
	for _, s := range c.Security.Incidents {
		out.Security = append(out.Security, []any{s.ID, s.Counts, s.VoidedBy != nil, s.EndedAt})
	}
	for _, r := range c.Results {
		out.Results = append(out.Results, []any{r.ID, r.Known, r.Points, r.GatePass, r.Input})
	}
	return out
}

// The card as of an instant computed then equals the card as of that instant computed
// later, after later reports, corrections, closings and recoveries were recorded.
func TestCardAsOfAnInstantNeverChanges(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 2026))
			evs := randomHistory(r)
			full := replay(t, evs, time.Time{})
			for k := 0; k < 3; k++ {
				d := evs[r.IntN(len(evs))].at.Add(time.Duration(r.IntN(3600)) * time.Second)
				then := replay(t, evs, d)
				for name, from := range map[string]time.Time{"period": at("2026-01-01 00:00"), "month": MonthStart(d)} {
					a, b := compute(t, then, d, from), compute(t, full, d, from)
					if !reflect.DeepEqual(view(a), view(b)) {
						ja, _ := json.MarshalIndent(view(a), "", " ")
						jb, _ := json.MarshalIndent(view(b), "", " ")
						t.Errorf("%s card as of %s differs: %s", name, clock.Stamp(d), firstDiff(string(ja), string(jb)))
					}
				}
			}
		})
	}
}

// replay builds a ledger of the events before until (all of them when zero).
func replay(t *testing.T, evs []event, until time.Time) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for _, e := range evs {
		if !until.IsZero() && !e.at.Before(until) {
			break
		}
		e.apply(t, l)
	}
	return l
}

func compute(t *testing.T, l *ledger.Ledger, at, from time.Time) *Card {
	t.Helper()
	set := newFixture(t).set
	c, err := Compute(context.Background(), l, set, at, from, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// firstDiff shows the first differing line of two texts, with a little context.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			lo := max(0, i-4)
			return fmt.Sprintf("at line %d:\n%s\n  then:  %s\n  later: %s", i+1, strings.Join(la[lo:i], "\n"), la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(la), len(lb))
}

package card

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// fixture is a ledger of a scripted year and the settings to score it with.
type fixture struct {
	t   *testing.T
	l   *ledger.Ledger
	set Settings
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &fixture{t: t, l: l, set: Settings{Rounding: scoring.RoundCeil, Calendar: workday.Default, Cases: cases.DefaultOptions(),
		Catalogue: scoring.MustDefault()}}
}

// at reads a Shanghai time written "2006-01-02 15:04".
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, clock.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// assessed is a record decided and reported on those dates ("" for none), assessed as the
// collectors do: the deadline is 7 working days after the decision.
func assessed(dept, decided, reported string, compliant bool) publicity.Assessment {
	a := publicity.Assessment{Department: dept, Reported: reported != ""}
	if decided != "" {
		a.DecidedOn = day(decided)
		var err error
		a.Deadline, err = workday.Default.AddWorkdays(a.DecidedOn, 7)
		a.DeadlineUnknown = errors.Is(err, workday.ErrUnknownYear)
	}
	if a.Reported {
		a.ReportedOn = day(reported)
		a.Timely = !a.Deadline.IsZero() && !a.ReportedOn.After(a.Deadline)
		a.Compliant = compliant
	}
	return a
}

func (f *fixture) store(updated time.Time, recs ...ledger.PublicityRecord) {
	f.t.Helper()
	for i := range recs {
		if recs[i].Kind == "" {
			recs[i].Kind = publicity.Penalty
		}
		recs[i].Source, recs[i].UpdatedAt, recs[i].Fields = "test", updated, map[string]string{}
	}
	if err := f.l.StorePublicity(context.Background(), recs, nil); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) cases(updated time.Time, cs ...ledger.CaseRecord) {
	f.t.Helper()
	for i := range cs {
		cs[i].Source, cs[i].UpdatedAt = "test", updated
	}
	if err := f.l.StoreCases(context.Background(), cs, nil); err != nil {
		f.t.Fatal(err)
	}
}

// probes records one probe per step from start following script ('.' good, 'x' failed).
func (f *fixture) probes(target string, sc ledger.Scoring, start time.Time, step time.Duration, script string) {
	f.t.Helper()
	f.probesFrom("test", target, sc, start, step, script)
}

// probesFrom records them from a vantage, watched at intervals of step.
func (f *fixture) probesFrom(vantage, target string, sc ledger.Scoring, start time.Time, step time.Duration, script string) {
	f.t.Helper()
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 2}
	interval := step
	if vantage == "test" {
		interval = 0 // as the fixture always did
	}
	for i, c := range script {
		p := ledger.Probe{Target: target, Vantage: vantage, StartedAt: start.Add(time.Duration(i) * step), Outcome: "ok", StatusCode: 200,
			Interval: interval}
		if c == 'x' {
			p.Failed, p.Outcome, p.StatusCode = true, "http_status", 503
		}
		if _, _, err := f.l.RecordProbe(context.Background(), p, pol, sc); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) card(at time.Time) *Card {
	f.t.Helper()
	c, err := Period(context.Background(), f.l, f.set, at, Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func result(t *testing.T, c *Card, id string) scoring.Result {
	t.Helper()
	r, ok := c.Result(id)
	if !ok {
		t.Fatalf("no indicator %s", id)
	}
	return r
}

func record(id string, a publicity.Assessment) ledger.PublicityRecord {
	return ledger.PublicityRecord{ID: id, Assessment: a}
}

// Today is Shanghai's today whatever the machine's zone: at 07:00 in Shanghai (23:00 the
// day before in UTC) the records published today count in the objection share. (The issue
// that found this had 80,000 records and 2 upheld objections: 2.5e-5, 1.25 points, but 0
// with today's records left out. Forty records and one objection show the same denominator.)
func TestTodayIsShanghaiWhateverTheZone(t *testing.T) {
	f := newFixture(t)
	var recs []ledger.PublicityRecord
	for i := 0; i < 40; i++ {
		reported := "2026-11-27" // published today
		if i%2 == 0 {
			reported = "2026-06-10"
		}
		recs = append(recs, record(fmt.Sprintf("R%d", i), assessed("局", "2026-06-01", reported, true)))
	}
	f.store(at("2026-11-27 06:00"), recs...)
	f.cases(at("2026-11-20 10:00"), ledger.CaseRecord{Kind: cases.KindObjection, ID: "Y1", Fields: map[string]string{
		cases.FieldObjectionID: "Y1", cases.FieldObjectionDoc: "R1", cases.FieldReceived: "2026-11-17",
		cases.FieldClosed: "2026-11-20", cases.FieldValid: "是", cases.FieldSynced: "2026-11-20 16:00"}})
	for _, zone := range []string{"UTC", "America/Los_Angeles", "Asia/Shanghai"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			old := time.Local
			time.Local = loc
			t.Cleanup(func() { time.Local = old })
			now := at("2026-11-27 07:00").In(loc)
			c := f.card(Now(now))
			if c.Publicity.Published != 40 {
				t.Errorf("published in the period = %d, want 40 (today's 20 with the others)", c.Publicity.Published)
			}
			if r := result(t, c, "publicity_objection_share"); r.Input.Value != 1.0/40 {
				t.Errorf("objection share = %v, want 1 ÷ 40", r.Input.Value)
			}
		})
	}
}

// Rates and the code error rate count the records decided in the period up to the as-of
// day: last year's and next month's records are checked, not counted.
func TestOnlyRecordsDecidedInThePeriodCount(t *testing.T) {
	f := newFixture(t)
	// Decided in 2025, received unreported, reported late and faulty in 2026.
	pending := assessed("局", "2025-12-20", "", false)
	pending.SubjectCode, pending.SubjectName = "91320100748204660R", "坏码公司"
	f.store(at("2025-12-22 09:00"), record("old", pending))
	last := assessed("局", "2025-12-20", "2026-01-20", false)
	last.SubjectCode, last.SubjectName = "91320100748204660R", "坏码公司"
	good := assessed("局", "2026-02-02", "2026-02-03", true)
	good.SubjectCode, good.SubjectName, good.CodeValid = "91320100748204660Q", "好码公司", true
	future := assessed("局", "2026-04-01", "", false) // decided after the as-of day
	f.store(at("2026-02-10 09:00"), record("old", last), record("new", good), record("future", future))
	c := f.card(at("2026-03-01 00:00"))
	if r := result(t, c, "publicity_rates"); !r.Known || !r.GatePass {
		t.Errorf("publicity_rates = %+v, want passing on 2026's records only", r)
	}
	if c.Publicity.Codes != (publicity.CodeStats{Distinct: 1}) {
		t.Errorf("codes = %+v, want the one valid code of 2026", c.Publicity.Codes)
	}
	if r := result(t, c, "uscc_error_rate"); r.Points != 1 {
		t.Errorf("uscc_error_rate = %v, want 1", r.Points)
	}
	// As of the end of 2025, the old record counts as it stood then: due and unreported.
	c = f.card(at("2026-01-01 00:00"))
	if r := result(t, c, "publicity_rates"); !r.Known || r.GatePass {
		t.Errorf("2025's publicity_rates = %+v, want failing", r)
	}
}

// One outage of the portal is one incident however many of its pages are probed; a backup
// site costs nothing; an incident following within the window is the same outage.
func TestOneSiteOneOutage(t *testing.T) {
	f := newFixture(t)
	portal := ledger.Scoring{Site: "portal", Scored: true, MergeWindow: 10 * time.Minute}
	backup := ledger.Scoring{Site: "backup", Scored: false, MergeWindow: 10 * time.Minute}
	start := at("2026-05-01 10:00")
	for _, target := range []string{"home", "list", "report-query"} {
		f.probes(target, portal, start, time.Minute, "..xxxx....")
	}
	f.probes("backup-portal", backup, start, time.Minute, "..xxxx....")
	// The list page fails again five minutes after the outage ended (within the window):
	// the same outage. An hour later the home page alone fails: a second outage.
	f.probes("list", portal, start.Add(11*time.Minute), time.Minute, "xx..")
	f.probes("home", portal, start.Add(time.Hour), time.Minute, "xxx..")
	c := f.card(at("2026-06-01 00:00"))
	if got := len(c.Portal.Outages); got != 2 {
		t.Fatalf("%d outages, want 2: %+v", got, c.Portal.Outages)
	}
	if first := c.Portal.Outages[0]; len(first.Members) != 4 || strings.Join(first.Targets, ",") != "home,list,report-query" {
		t.Errorf("first outage = %+v, want the incidents of home, list (twice) and report-query", first)
	}
	if len(c.Portal.Incidents) != 6 {
		t.Errorf("%d incidents of targets, want 6 (each kept, the backup's too)", len(c.Portal.Incidents))
	}
	if r := result(t, c, "portal_accessibility"); r.Points != 1 {
		t.Errorf("portal_accessibility = %v, want 2 − 2 × 0.5 = 1", r.Points)
	}
}

// With three vantages and a quorum of 2, a portal that fails from one vantage only loses no
// point (that vantage's incident is listed); one that fails from all three is one scored
// outage seen by a, b and c; and while b and c are not watching, a alone is the quorum.
func TestQuorumOfVantages(t *testing.T) {
	f := newFixture(t)
	f.set.Quorum = 2
	f.set.Sites = map[string]string{"home": "portal"}
	portal := ledger.Scoring{Site: "portal", Scored: true, MergeWindow: 10 * time.Minute}
	start := at("2026-05-01 10:00")
	f.probesFrom("a", "home", portal, start, time.Minute, "..xxxx......................")
	f.probesFrom("b", "home", portal, start, time.Minute, ".............................")
	f.probesFrom("c", "home", portal, start, time.Minute, ".............................")
	c := f.card(at("2026-05-01 11:00"))
	if len(c.Portal.Outages) != 0 || len(c.Portal.Incidents) != 1 || c.Portal.Incidents[0].Vantage != "a" {
		t.Fatalf("a alone: outages %+v, incidents %+v; want a's incident and no scored outage", c.Portal.Outages, c.Portal.Incidents)
	}
	if r := result(t, c, "portal_accessibility"); r.Points != 2 {
		t.Errorf("portal_accessibility = %v with a alone failing, want 2", r.Points)
	}
	later := start.Add(time.Hour)
	f.probesFrom("a", "home", portal, later, time.Minute, "..xxxx....")
	f.probesFrom("b", "home", portal, later, time.Minute, "...xxxx...")
	f.probesFrom("c", "home", portal, later, time.Minute, "..xxxxx...")
	c = f.card(at("2026-05-01 12:00"))
	if len(c.Portal.Outages) != 1 || strings.Join(c.Portal.Outages[0].Vantages, ",") != "a,c,b" {
		t.Fatalf("all three: outages %+v, want one seen by a, c and b", c.Portal.Outages)
	}
	if o := c.Portal.Outages[0]; !o.Start.Equal(later.Add(2 * time.Minute)) {
		t.Errorf("outage starts %s, want when a and c both saw it fail", o.Start)
	}
	if r := result(t, c, "portal_accessibility"); r.Points != 1.5 {
		t.Errorf("portal_accessibility = %v, want 1.5", r.Points)
	}
	// b and c stop watching (their instances died): a alone is watching, and the quorum.
	alone := start.Add(2 * time.Hour)
	f.probesFrom("a", "home", portal, alone, time.Minute, "..xxxx....")
	c = f.card(at("2026-05-01 13:00"))
	if len(c.Portal.Outages) != 2 || strings.Join(c.Portal.Outages[1].Vantages, ",") != "a" {
		t.Errorf("a alone watching: outages %+v, want a second outage seen by a", c.Portal.Outages)
	}
}

func repairCase(id, applied, decided string) ledger.CaseRecord {
	return ledger.CaseRecord{Kind: cases.KindRepair, ID: id, Fields: map[string]string{
		cases.FieldRepairID: id, cases.FieldPenaltyDoc: "濮罚" + id, cases.FieldPenaltyDate: "2026-01-05",
		cases.FieldApplied: applied, cases.FieldClosed: decided, cases.FieldOutcome: map[bool]string{true: "同意"}[decided != ""],
		cases.FieldFulfilled: "是", cases.FieldCommitment: "是"}}
}

// An open repair past its 3rd working day is overdue in the period it became overdue, and
// is not counted again when it is decided in the next period.
func TestOverdueRepairCountsOnce(t *testing.T) {
	f := newFixture(t)
	// Applied Thursday 24 Dec 2026: the 3rd working day is 29 Dec, overdue from 30 Dec.
	f.cases(at("2026-12-24 10:00"), repairCase("X1", "2026-12-24", ""))
	f.cases(at("2027-01-05 10:00"), repairCase("X1", "2026-12-24", "2027-01-05"))
	tests := map[string]struct {
		at      time.Time
		overdue int
		points  float64
	}{
		"on the 3rd working day":      {at("2026-12-30 00:00"), 0, 2},
		"overdue, still open in 2026": {at("2027-01-01 00:00"), 1, 1},
		"decided in 2027":             {at("2027-01-10 00:00"), 0, 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := f.card(tc.at)
			if c.Cases.Summary.Repairs.Overdue != tc.overdue {
				t.Errorf("overdue = %d, want %d", c.Cases.Summary.Repairs.Overdue, tc.overdue)
			}
			if r := result(t, c, "repair_timeliness"); r.Points != tc.points {
				t.Errorf("repair_timeliness = %v, want %v", r.Points, tc.points)
			}
		})
	}
}

func TestPeriodStart(t *testing.T) {
	july := Settings{Anniversary: day("2026-07-01")}
	tests := map[string]struct {
		set  Settings
		at   time.Time
		want string
	}{
		"calendar year, last second":         {Settings{}, at("2026-12-31 23:59").Add(59 * time.Second), "2026-01-01"},
		"as of New Year's midnight: 2026":    {Settings{}, at("2027-01-01 00:00"), "2026-01-01"},
		"just after midnight: 2027":          {Settings{}, at("2027-01-01 00:00").Add(time.Second), "2027-01-01"},
		"midnight in UTC is 08:00 Shanghai":  {Settings{}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "2027-01-01"},
		"anniversary: before the turn":       {july, at("2027-03-01 12:00"), "2026-07-01"},
		"anniversary: after the turn":        {july, at("2027-07-02 12:00"), "2027-07-01"},
		"anniversary: before the first year": {july, at("2026-02-01 12:00"), "2025-07-01"},
	}
	for name, tc := range tests {
		if got := clock.Date(tc.set.PeriodStart(tc.at)); got != tc.want {
			t.Errorf("%s: period starts %s, want %s", name, got, tc.want)
		}
	}
}

// Past the calendar's last known year, what needs it is unknown with its reason; the rest
// is scored.
func TestCalendarHorizon(t *testing.T) {
	f := newFixture(t)
	f.store(at("2027-12-24 12:00"), record("late-december", assessed("局", "2027-12-24", "", false)))
	// Applied on 29 Dec 2027: its 4th working day falls in 2028.
	f.cases(at("2027-12-29 10:00"), repairCase("X9", "2027-12-29", ""))
	f.probes("home", ledger.Scoring{Site: "portal", Scored: true}, at("2027-06-01 10:00"), time.Minute, "xx..")
	c := f.card(at("2027-12-31 12:00"))
	for _, id := range []string{"publicity_rates", "repair_timeliness"} {
		r := result(t, c, id)
		if r.Known || !strings.Contains(r.Input.Reason, "2028") {
			t.Errorf("%s = known %t, reason %q; want unknown, naming 2028", id, r.Known, r.Input.Reason)
		}
	}
	if r := result(t, c, "portal_accessibility"); !r.Known || r.Points != 1.5 {
		t.Errorf("portal_accessibility = %+v, want scored 1.5", r)
	}
	if r := result(t, c, "repair_compliance"); !r.Known {
		t.Errorf("repair_compliance not scored: it needs no calendar")
	}
	if !c.Publicity.NextWorkday.IsZero() {
		t.Errorf("next working day after 31 Dec 2027 = %v, want unknown", c.Publicity.NextWorkday)
	}
}

// Every rule input of the catalogue is produced by the card or declared engine-only, and
// no producer makes an input the catalogue does not use.
func TestEveryCatalogueInputHasAProducer(t *testing.T) {
	produced := map[string]bool{}
	for _, p := range producers {
		for _, in := range p.inputs {
			if produced[in] {
				t.Errorf("input %s has two producers", in)
			}
			produced[in] = true
		}
	}
	used := map[string]bool{}
	for _, ind := range scoring.MustDefault().Indicators {
		if ind.Rule == nil {
			continue
		}
		in := ind.Rule.Input
		used[in] = true
		if produced[in] == EngineOnly[in] {
			t.Errorf("%s (%s): input %s produced %t, engine-only %t: want exactly one", ind.ID, ind.Ledger, in, produced[in], EngineOnly[in])
		}
	}
	for in := range produced {
		if !used[in] {
			t.Errorf("input %s is produced but no indicator uses it", in)
		}
	}
}

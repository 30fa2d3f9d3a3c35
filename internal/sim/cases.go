package sim

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// CaseScenario scripts the objection and repair cases the platform serves. Every case is
// closed (or opened) relative to the scenario's date, so the expected points are known.
type CaseScenario struct {
	Objections          int      `yaml:"objections"`           // closed objections
	ObjectionWorkdays   []int    `yaml:"objection_workdays"`   // their handling times, cycled
	ValidEvery          int      `yaml:"valid_every"`          // every n-th is upheld
	OpenObjections      []int    `yaml:"open_objections"`      // ages in working days of open ones
	Repairs             int      `yaml:"repairs"`              // decided repairs
	OverdueRepairs      int      `yaml:"overdue_repairs"`      // of which decided on the 4th working day
	NoncompliantRepairs int      `yaml:"noncompliant_repairs"` // approved a day before the minimum period
	LateSyncs           int      `yaml:"late_syncs"`           // results synced the next day
	OpenRepairs         []int    `yaml:"open_repairs"`         // ages of open repairs
	ReopenAt            Duration `yaml:"reopen_at"`            // the first objection is served open until then
}

type genCase struct {
	kind   string
	id     string
	fields map[string]string
	open   map[string]string // version served before ReopenAt, if any
}

// before returns the latest working day r with exactly n working days in (r, d]: a case
// received on r is n working days old on d, also when d is a weekend or holiday (then the
// n-th working day before d would be n−1 working days old). d itself for n = 0.
func before(d time.Time, n int) time.Time {
	if n == 0 {
		return d
	}
	for found := 0; ; d = d.AddDate(0, 0, -1) {
		if w, err := workday.Default.IsWorkday(d); err == nil && w {
			if found == n {
				return d
			}
			found++
		}
	}
}

func (p *platform) generateCases() error {
	sc := p.sc.Cases
	// Closed cases end a few working days before today; their history lies before that.
	end := before(p.asOf, 1)
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	late := sc.LateSyncs
	for i := 0; i < sc.Objections; i++ {
		w := 3
		if len(sc.ObjectionWorkdays) > 0 {
			w = sc.ObjectionWorkdays[i%len(sc.ObjectionWorkdays)]
		}
		closed := before(end, i%5)
		received := before(closed, w)
		synced := closed.Add(16 * time.Hour).Format("2006-01-02 15:04:05")
		if late > 0 {
			synced, late = closed.Add(24*time.Hour+time.Hour).Format("2006-01-02 15:04:05"), late-1
		}
		valid := "否"
		if sc.ValidEvery > 0 && i%sc.ValidEvery == 0 {
			valid = "是"
		}
		c := &genCase{kind: cases.KindObjection, id: fmt.Sprintf("YY%04d", i+1), fields: map[string]string{
			cases.FieldObjectionID: fmt.Sprintf("YY%04d", i+1), cases.FieldObjectionDoc: fmt.Sprintf("濮罚〔2026〕%d号", 10000+i),
			cases.FieldReceived: date(received), cases.FieldClosed: date(closed), cases.FieldValid: valid, cases.FieldSynced: synced}}
		if i == 0 && sc.ReopenAt > 0 {
			c.open = copyFields(c.fields)
			c.open[cases.FieldClosed], c.open[cases.FieldValid], c.open[cases.FieldSynced] = "", "", ""
		}
		p.cases[cases.KindObjection] = append(p.cases[cases.KindObjection], c)
	}
	for i, age := range sc.OpenObjections {
		id := fmt.Sprintf("YK%04d", i+1)
		p.cases[cases.KindObjection] = append(p.cases[cases.KindObjection], &genCase{kind: cases.KindObjection, id: id,
			fields: map[string]string{cases.FieldObjectionID: id, cases.FieldObjectionDoc: "濮罚〔2026〕1号",
				cases.FieldReceived: date(before(p.asOf, age))}})
	}
	over, bad := sc.OverdueRepairs, sc.NoncompliantRepairs
	for i := 0; i < sc.Repairs; i++ {
		id := fmt.Sprintf("XF%04d", i+1)
		decided := before(end, i%5)
		w := 2
		if over > 0 {
			w, over = 4, over-1
		}
		applied := before(decided, w)
		penalty := decided.AddDate(0, -7, 0) // long enough ago for either rule
		if bad > 0 {
			// Three months before tomorrow: the minimum period ends after the decision day
			// (AddDate rounds a missing month-end forward, never back).
			penalty, bad = decided.AddDate(0, 0, 1).AddDate(0, -3, 0), bad-1
		}
		synced := decided.Add(15 * time.Hour).Format("2006-01-02 15:04:05")
		if late > 0 {
			synced, late = decided.Add(24*time.Hour+time.Minute).Format("2006-01-02 15:04:05"), late-1
		}
		p.cases[cases.KindRepair] = append(p.cases[cases.KindRepair], &genCase{kind: cases.KindRepair, id: id, fields: map[string]string{
			cases.FieldRepairID: id, cases.FieldPenaltyDoc: fmt.Sprintf("濮罚〔2026〕%d号", 20000+i), cases.FieldPenaltyDate: date(penalty),
			cases.FieldSeverity: "一般", cases.FieldCategory: "罚款", cases.FieldApplied: date(applied), cases.FieldClosed: date(decided),
			cases.FieldOutcome: "同意", cases.FieldFulfilled: "是", cases.FieldCommitment: "是", cases.FieldSynced: synced}})
	}
	for i, age := range sc.OpenRepairs {
		id := fmt.Sprintf("XK%04d", i+1)
		p.cases[cases.KindRepair] = append(p.cases[cases.KindRepair], &genCase{kind: cases.KindRepair, id: id, fields: map[string]string{
			cases.FieldRepairID: id, cases.FieldPenaltyDoc: "濮罚〔2026〕2号", cases.FieldPenaltyDate: date(p.asOf.AddDate(-1, 0, 0)),
			cases.FieldSeverity: "一般", cases.FieldApplied: date(before(p.asOf, age))}})
	}
	return nil
}

func copyFields(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (p *platform) caseChanges(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !p.authorised(w, r) {
			return
		}
		elapsed := time.Since(p.start)
		var vs []apiRecord
		for i, c := range p.cases[kind] {
			v := apiRecord{ID: c.id, UpdatedAt: p.start.Add(time.Duration(i) * time.Microsecond), Fields: c.fields}
			if c.open != nil {
				if elapsed < time.Duration(p.sc.Cases.ReopenAt) {
					v.Fields = c.open
				} else {
					v.UpdatedAt = p.start.Add(time.Duration(p.sc.Cases.ReopenAt) + time.Duration(i)*time.Microsecond)
				}
			}
			vs = append(vs, v)
		}
		sort.Slice(vs, func(a, b int) bool {
			return vs[a].UpdatedAt.Before(vs[b].UpdatedAt) || vs[a].UpdatedAt.Equal(vs[b].UpdatedAt) && vs[a].ID < vs[b].ID
		})
		servePage(w, r, vs, nil)
	}
}

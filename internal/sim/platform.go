package sim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// PlatformScenario configures the simulated platform's data API.
type PlatformScenario struct {
	Token           string       `yaml:"token"`
	Penalties       int          `yaml:"penalties"`
	Licences        int          `yaml:"licences"`
	FaultyRatio     float64      `yaml:"faulty_ratio"`
	LateRatio       float64      `yaml:"late_ratio"`
	UnreportedRatio float64      `yaml:"unreported_ratio"`
	DuplicateEvery  int          `yaml:"duplicate_every"`
	PublishEvery    Duration     `yaml:"publish_every"` // 0: everything is visible at start
	PublishCount    int          `yaml:"publish_count"`
	CorrectEvery    int          `yaml:"correct_every"` // every n-th faulty record is corrected...
	CorrectAt       Duration     `yaml:"correct_at"`    // ...this long after start
	BrokenPages     []int        `yaml:"broken_pages"`  // these API requests (1-based) answer broken JSON
	PageDelay       Duration     `yaml:"page_delay"`    // each API request is answered this much later
	AsOf            string       `yaml:"as_of"`         // data is generated around this date; default today
	Cases           CaseScenario `yaml:"cases"`
}

// Departments are the departments of the source ledger's last table.
var Departments = []string{"濮阳市住房和城乡建设局", "濮阳市自然资源和规划局", "濮阳市生态环境局", "濮阳市交通运输局",
	"濮阳市商务局", "濮阳市文化和旅游局", "濮阳市卫生健康委员会", "濮阳市市场监管局", "濮阳市应急管理局", "濮阳市消防救援支队"}

var deptCodes = func() map[string]string {
	m := map[string]string{}
	for i, d := range Departments {
		m[d] = codes.CompleteUSCC(fmt.Sprintf("11410900%08d", 555800+i))
	}
	return m
}()

// genRecord is a generated record and what it is by construction.
type genRecord struct {
	kind      publicity.Kind
	id        string
	dept      string
	fields    map[string]string
	reported  string
	faulty    bool
	late      bool
	code      string
	codeBad   bool
	dupOf     int // index of the record whose code this one reuses under another name, -1 if none
	published time.Duration
	corrected time.Duration // 0: never
}

type platform struct {
	sc      PlatformScenario
	start   time.Time
	asOf    time.Time
	records map[publicity.Kind][]*genRecord
	cases   map[string][]*genCase
	mu      sync.Mutex
	pages   int
}

func newPlatform(sc PlatformScenario, start time.Time) (*platform, error) {
	asOf := start
	if sc.AsOf != "" {
		t, err := publicity.ParseDate(sc.AsOf)
		if err != nil {
			return nil, fmt.Errorf("platform.as_of: %w", err)
		}
		asOf = t
	}
	y, m, d := asOf.In(clock.Shanghai).Date()
	p := &platform{sc: sc, start: start, asOf: time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai),
		records: map[publicity.Kind][]*genRecord{}, cases: map[string][]*genCase{}}
	if err := p.generateCases(); err != nil {
		return nil, err
	}
	for _, k := range []struct {
		kind publicity.Kind
		n    int
	}{{publicity.Penalty, sc.Penalties}, {publicity.Licence, sc.Licences}} {
		for i := 0; i < k.n; i++ {
			r, err := p.generate(k.kind, i)
			if err != nil {
				return nil, err
			}
			p.records[k.kind] = append(p.records[k.kind], r)
		}
	}
	return p, nil
}

// frac is a deterministic number in [0, 1) from a record's identity and a purpose.
func frac(kind publicity.Kind, i int, purpose string) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%s", kind, i, purpose)
	return float64(h.Sum64()%1_000_000) / 1_000_000
}

var (
	companyWords = []string{"恒信", "龙都", "金堤", "开州", "华龙", "昆吾", "清丰", "南乐", "范县", "台前", "中原", "绿源", "鑫源", "宏达", "永兴"}
	companyTrade = []string{"化工", "建材", "物流", "商贸", "机械", "纺织", "食品", "建筑", "科技", "农业"}
	faults       = []string{publicity.RuleMissingField, publicity.RuleBadCode, publicity.RuleBadCategory, publicity.RuleMissingLegalRep}
)

func (p *platform) generate(kind publicity.Kind, i int) (*genRecord, error) {
	dept := Departments[i%len(Departments)]
	name := fmt.Sprintf("濮阳市%s%s有限公司第%d分公司", companyWords[i%len(companyWords)], companyTrade[(i/15)%len(companyTrade)], i)
	prefix := map[publicity.Kind]string{publicity.Penalty: "P", publicity.Licence: "L"}[kind]
	r := &genRecord{kind: kind, dept: dept, dupOf: -1,
		code: codes.CompleteUSCC(fmt.Sprintf("91410900%s%07d", prefix, i))}
	decision, err := workday.Default.AddWorkdays(p.asOf.AddDate(0, 0, -(25+i%300)), 1)
	if err != nil {
		return nil, err
	}
	if every := p.sc.DuplicateEvery; every > 0 && i > 0 && i%every == 0 {
		r.dupOf = i - 1 // decided below, once the previous record's code is known to be valid
	}
	r.faulty = frac(kind, i, "faulty") < p.sc.FaultyRatio
	fault := faults[i%len(faults)]
	if r.faulty && fault == publicity.RuleBadCode {
		if r.dupOf >= 0 {
			fault = publicity.RuleMissingField // a duplicate keeps its valid code
		} else {
			r.code = r.code[:17] + map[bool]string{true: "1", false: "0"}[r.code[17] == '0']
			r.codeBad = true
		}
	}
	late := frac(kind, i, "late") < p.sc.LateRatio
	unreported := frac(kind, i, "unreported") < p.sc.UnreportedRatio
	if !unreported {
		n := 1 + i%7
		if late {
			n = 8 + i%3
		}
		rep, err := workday.Default.AddWorkdays(decision, n)
		if err != nil {
			return nil, err
		}
		r.reported, r.late = rep.Format(time.DateOnly), late
	}
	legalRep := "王" + companyWords[(i/7)%len(companyWords)]
	if r.faulty && fault == publicity.RuleMissingLegalRep {
		legalRep = ""
	}
	f := map[string]string{
		publicity.FieldSubjectName: name, publicity.FieldSubjectType: publicity.SubjectOrg, publicity.FieldUSCC: r.code,
		publicity.FieldLegalRep: legalRep, publicity.FieldSource: dept, publicity.FieldSourceCode: deptCodes[dept],
	}
	dd := decision.Format(time.DateOnly)
	until := decision.AddDate(1, 0, 0).Format(time.DateOnly)
	if kind == publicity.Penalty {
		r.id = fmt.Sprintf("濮罚〔%d〕%d号", decision.Year(), 10000+i)
		category := "罚款"
		if r.faulty && fault == publicity.RuleBadCategory {
			category = "罚款、通报"
		}
		fact := "未按规定履行法定义务"
		if r.faulty && fault == publicity.RuleMissingField {
			fact = ""
		}
		for k, v := range map[string]string{publicity.FieldPenaltyNo: r.id, "违法行为类型": "违反市场监管规定", "违法事实": fact,
			"处罚依据": "《中华人民共和国行政处罚法》", publicity.FieldPenaltyCategory: category, "处罚内容": "罚款人民币壹万元",
			publicity.FieldFine: "1", publicity.FieldPenaltyDate: dd, publicity.FieldPenaltyValid: until, "处罚机关": dept,
			publicity.FieldPenaltyOrgCode: deptCodes[dept]} {
			f[k] = v
		}
	} else {
		r.id = fmt.Sprintf("濮许〔%d〕%d号", decision.Year(), 20000+i)
		category := "普通"
		if r.faulty && fault == publicity.RuleBadCategory {
			category = "一般"
		}
		content := "食品销售"
		if r.faulty && fault == publicity.RuleMissingField {
			content = ""
		}
		for k, v := range map[string]string{"行政许可决定文书名称": "行政许可决定书", publicity.FieldLicenceNo: r.id,
			publicity.FieldLicenceCategory: category, "许可内容": content, publicity.FieldLicenceDate: dd,
			publicity.FieldLicenceFrom: dd, publicity.FieldLicenceTo: until, "许可机关": dept, publicity.FieldLicenceOrgCode: deptCodes[dept]} {
			f[k] = v
		}
	}
	r.fields = f
	if every, count := p.sc.PublishEvery, p.sc.PublishCount; every > 0 && count > 0 {
		r.published = time.Duration(i/count) * time.Duration(every)
	}
	if p.sc.CorrectEvery > 0 && p.sc.CorrectAt > 0 && r.faulty && i%p.sc.CorrectEvery == 0 {
		r.corrected = time.Duration(p.sc.CorrectAt)
	}
	return r, nil
}

// finishDuplicates points duplicates at their predecessor's code under the new name.
func (p *platform) finishDuplicates() {
	for _, list := range p.records {
		for _, r := range list {
			if r.dupOf < 0 {
				continue
			}
			prev := list[r.dupOf]
			if prev.codeBad || r.codeBad {
				r.dupOf = -1
				continue
			}
			r.code = prev.code
			r.fields[publicity.FieldUSCC] = prev.code
		}
	}
}

// version is what the API shows of a record at elapsed time: nil before it is published.
type version struct {
	r         *genRecord
	updatedAt time.Time
	fixed     bool
}

func (p *platform) visible(kind publicity.Kind, elapsed time.Duration) []version {
	// A version is stamped when its event happens (published, or corrected), plus i
	// microseconds to order the records of one event; events are far more than
	// len(records) µs apart, so a later event always sorts after every earlier one.
	var out []version
	for i, r := range p.records[kind] {
		if r.published > elapsed {
			continue
		}
		offset := time.Duration(i) * time.Microsecond
		v := version{r: r, updatedAt: p.start.Add(r.published + offset)}
		if fix := max(r.corrected, r.published); r.corrected > 0 && fix <= elapsed {
			v.fixed = true
			v.updatedAt = p.start.Add(fix + offset)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].updatedAt.Equal(out[b].updatedAt) {
			return out[a].updatedAt.Before(out[b].updatedAt)
		}
		return out[a].r.id < out[b].r.id
	})
	return out
}

func (v version) fields() map[string]string {
	if !v.fixed {
		return v.r.fields
	}
	f := make(map[string]string, len(v.r.fields))
	for k, x := range v.r.fields {
		f[k] = x
	}
	// A corrected record: every fault fixed.
	f[publicity.FieldLegalRep] = "王建国"
	if v.r.kind == publicity.Penalty {
		f["违法事实"], f[publicity.FieldPenaltyCategory] = "未按规定履行法定义务", "罚款"
	} else {
		f["许可内容"], f[publicity.FieldLicenceCategory] = "食品销售", "普通"
	}
	if v.r.codeBad {
		f[publicity.FieldUSCC] = codes.CompleteUSCC(v.r.code[:16])
	}
	return f
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixNano(), 10) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	if c == "" {
		return time.Time{}, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", err
	}
	ns, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", fmt.Errorf("bad cursor")
	}
	return time.Unix(0, n), id, nil
}

// apiRecord is a record version as the API serves it.
type apiRecord struct {
	ID         string            `json:"id"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ReportedAt string            `json:"reported_at"`
	Fields     map[string]string `json:"fields"`
}

// servePage answers a change-stream request (docs/platform-api.md) from versions sorted
// by (updated_at, id); mangle, when set, may damage the encoded page.
func servePage(w http.ResponseWriter, r *http.Request, versions []apiRecord, mangle func([]byte) []byte) {
	after, afterID, err := decodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		http.Error(w, `{"error":"bad cursor"}`, http.StatusBadRequest)
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit < 1 || limit > 5000 {
		limit = 500
	}
	page := struct {
		Records    []apiRecord `json:"records"`
		NextCursor string      `json:"next_cursor"`
		HasMore    bool        `json:"has_more"`
	}{Records: []apiRecord{}, NextCursor: r.URL.Query().Get("cursor")}
	for _, v := range versions {
		if !after.IsZero() && (v.UpdatedAt.Before(after) || v.UpdatedAt.Equal(after) && v.ID <= afterID) {
			continue
		}
		if len(page.Records) == limit {
			page.HasMore = true
			break
		}
		page.Records = append(page.Records, apiRecord{ID: v.ID, UpdatedAt: v.UpdatedAt.UTC(), ReportedAt: v.ReportedAt, Fields: v.Fields})
		page.NextCursor = encodeCursor(v.UpdatedAt, v.ID)
	}
	body, _ := json.Marshal(page)
	if mangle != nil {
		body = mangle(body)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body)
}

func (p *platform) authorised(w http.ResponseWriter, r *http.Request) bool {
	if p.sc.Token != "" && r.Header.Get("Authorization") != "Bearer "+p.sc.Token {
		http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
		return false
	}
	return true
}

func (p *platform) changes(w http.ResponseWriter, r *http.Request) {
	kind, err := publicity.ParseKind(r.PathValue("kind"))
	if err != nil {
		http.Error(w, `{"error":"unknown kind"}`, http.StatusNotFound)
		return
	}
	if !p.authorised(w, r) {
		return
	}
	p.mu.Lock()
	p.pages++
	n := p.pages
	p.mu.Unlock()
	if d := time.Duration(p.sc.PageDelay); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	var vs []apiRecord
	for _, v := range p.visible(kind, time.Since(p.start)) {
		vs = append(vs, apiRecord{ID: v.r.id, UpdatedAt: v.updatedAt, ReportedAt: v.r.reported, Fields: v.fields()})
	}
	servePage(w, r, vs, func(body []byte) []byte {
		for _, b := range p.sc.BrokenPages {
			if b == n {
				return body[:len(body)/2] // a proxy cut the answer short
			}
		}
		return body
	})
}

// Truth is what the simulator served, by construction.
type Truth struct {
	Kind        string                  `json:"kind"`
	Published   int                     `json:"published"`
	Figures     publicity.Figures       `json:"figures"`
	Departments map[string]TruthFigures `json:"departments"`
	Codes       publicity.CodeStats     `json:"codes"`
	IDs         []string                `json:"ids,omitempty"`
}

// TruthFigures are a department's counts by construction.
type TruthFigures struct {
	Total, Due, Reported, Compliant, Timely int
}

func (p *platform) truth(w http.ResponseWriter, r *http.Request) {
	elapsed := time.Since(p.start)
	out := map[string]*Truth{}
	codeNames := map[string]map[string]bool{}
	codeBad := map[string]bool{}
	for _, kind := range []publicity.Kind{publicity.Penalty, publicity.Licence} {
		t := &Truth{Kind: string(kind), Departments: map[string]TruthFigures{}}
		for _, v := range p.visible(kind, elapsed) {
			g := v.r
			reported := g.reported != ""
			faulty := g.faulty && !v.fixed
			d := t.Departments[g.dept]
			d.Total++
			d.Due++ // every generated decision is old enough for its deadline to have passed
			if reported {
				d.Reported++
				if !faulty {
					d.Compliant++
				}
				if !g.late {
					d.Timely++
				}
			}
			t.Departments[g.dept] = d
			t.Published++
			if r.URL.Query().Get("ids") != "" {
				t.IDs = append(t.IDs, g.id)
			}
			code := v.fields()[publicity.FieldUSCC]
			if codeNames[code] == nil {
				codeNames[code] = map[string]bool{}
			}
			codeNames[code][publicity.NormaliseName(g.fields[publicity.FieldSubjectName])] = true
			codeBad[code] = g.codeBad && !v.fixed
		}
		for _, d := range t.Departments {
			t.Figures.Total += d.Total
			t.Figures.Due += d.Due
			t.Figures.Reported += d.Reported
			t.Figures.Compliant += d.Compliant
			t.Figures.Timely += d.Timely
		}
		t.Figures = publicity.FinishFigures(t.Figures)
		out[string(kind)] = t
	}
	var cs publicity.CodeStats
	for code, names := range codeNames {
		cs.Distinct++
		switch {
		case codeBad[code]:
			cs.Invalid++
		case len(names) > 1:
			cs.Duplicated++
		}
	}
	for _, t := range out {
		t.Codes = cs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}

// Generate yields n generated records of kind one at a time, as the simulated platform
// would serve them (without duplicates), for benchmarks that need large realistic files.
func Generate(kind publicity.Kind, n int, sc PlatformScenario, yield func(id string, fields map[string]string, reported string) error) error {
	p := &platform{sc: sc, asOf: time.Now()}
	if sc.AsOf != "" {
		t, err := publicity.ParseDate(sc.AsOf)
		if err != nil {
			return err
		}
		p.asOf = t
	}
	y, m, d := p.asOf.In(clock.Shanghai).Date()
	p.asOf = time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
	for i := 0; i < n; i++ {
		r, err := p.generate(kind, i)
		if err != nil {
			return err
		}
		if err := yield(r.id, r.fields, r.reported); err != nil {
			return err
		}
	}
	return nil
}

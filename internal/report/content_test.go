package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/report/reporttest"
)

// TestContentSection: October with a non-conforming report, a defacement confirmed and
// ended, a redesign accepted, an incident the office recorded, a stale list page, and
// things that happened after the month's end that the report must not show.
func TestContentSection(t *testing.T) {
	ctx := context.Background()
	l, cfg := octoberLedger(t)
	cfg.CreditReports.URLTemplate = "https://credit.example.gov.cn/report?code={code}"
	hostile := `<img src=x onerror=alert("报告")>`
	at := reporttest.At
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(code, result, when string, reasons ...ledger.Reason) {
		t.Helper()
		_, err := l.RecordReportCheck(ctx, ledger.ReportCheck{Code: code, Name: "濮阳市" + hostile, URL: "https://credit.example.gov.cn/report?code=" + code,
			CheckedAt: at(when), Result: result, Reasons: reasons, ErrorClass: map[bool]string{true: "pdf_truncated"}[result == ledger.ReportFetchError],
			Format: "pdf", BodySHA256: "c0ffee"}, at("2026-01-01 00:00"))
		must(err)
	}
	check("91410900MA45A0011B", ledger.ReportConforming, "2026-10-05 10:00")
	check("91410900MA45A002X3", ledger.ReportNonconforming, "2026-10-05 11:00",
		ledger.Reason{Code: "missing_section", Message: "缺少「信用承诺信息」部分（2022年版标准第6部分）"},
		ledger.Reason{Code: "wrong_name", Message: "报告中的企业名称「" + hostile + "」与台账记录的「濮阳市诚信公司」不一致"})
	check("91410900MA45A00383", ledger.ReportFetchError, "2026-10-06 10:00")
	check("91410900MA45A00383", ledger.ReportNonconforming, "2026-11-02 10:00", ledger.Reason{Code: "wrong_code", Message: "十一月的"})
	content := func(when string, confirmed []string, still ...string) {
		t.Helper()
		var signs []ledger.Sign
		for _, r := range confirmed {
			signs = append(signs, ledger.Sign{Rule: r, Evidence: `<script src="https://evil.example/` + r + `.js">`})
		}
		_, err := l.RecordContent(ctx, ledger.ContentObservation{Target: "credit-portal", Site: "portal", Scored: true, Vantage: "puyang",
			URL: "https://credit.example.gov.cn/", At: at(when), FirstSeen: at(when).Add(-20 * 60e9), PageSHA256: "ab12cd",
			Confirmed: signs, StillConfirmed: still, Page: &ledger.PageCandidate{SHA256: "ab12cd", SeenAt: at(when), Title: "信用濮阳", JSON: "{}"}})
		must(err)
	}
	content("2026-10-09 08:00", []string{"foreign_script"}, "foreign_script")
	content("2026-10-09 09:00", nil)
	content("2026-10-21 08:00", []string{"structure_changed"}, "structure_changed")
	_, err := l.AcceptLatestPage(ctx, "credit-portal", "李四", at("2026-10-21 09:00"))
	must(err)
	content("2026-10-21 09:20", nil)
	_, err = l.RecordSecurityIncident(ctx, ledger.SecurityRecord{Date: at("2026-10-12 00:00"), Kind: ledger.SecurityNotified,
		Ref: "豫网信通〔2026〕12号" + hostile, Note: "共享平台被通报", By: "张三", At: at("2026-10-13 16:00")})
	must(err)
	_, err = l.RecordSecurityIncident(ctx, ledger.SecurityRecord{Date: at("2026-10-30 00:00"), Kind: ledger.SecurityIntrusion,
		Ref: "月末之后才记录", By: "张三", At: at("2026-11-03 16:00")})
	must(err)
	must(l.RecordFreshness(ctx, ledger.Freshness{Target: "credit-portal", CheckedAt: at("2026-10-02 09:00"), NewestOn: "2026-09-01", MaxAgeWorkdays: 10}))

	r, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now, Renderer: "test"})
	must(err)
	c := r.Data.Content
	if c == nil || c.Reports == nil {
		t.Fatalf("no content section: %+v", r.Data.Content)
	}
	if c.Reports.Checks != 3 || c.Reports.CodesChecked != 2 || len(c.Reports.Nonconforming) != 1 || len(c.Reports.Nonconforming[0].Reasons) != 2 ||
		c.Reports.FetchErrors["pdf_truncated"] != 1 {
		t.Errorf("reports as of the month's end: %+v", c.Reports)
	}
	if len(c.Security) != 3 {
		t.Fatalf("security incidents: %+v", c.Security)
	}
	if s := c.Security[0]; s.Source != ledger.SecurityDetected || !s.Counts || s.Ended == "" || s.Evidence == nil {
		t.Errorf("the defacement: %+v", s)
	}
	if s := c.Security[1]; s.Source != ledger.SecurityRecorded || !s.Counts || s.By != "张三" {
		t.Errorf("the recorded incident: %+v", s)
	}
	if s := c.Security[2]; s.Counts || s.AcceptedBy != "李四" {
		t.Errorf("the accepted redesign: %+v", s)
	}
	if len(c.ListPages) != 1 || !c.ListPages[0].Stale {
		t.Errorf("list pages: %+v", c.ListPages)
	}
	for _, ind := range r.Data.Indicators {
		switch {
		case ind.ID == "portal_report_conformance" && (*ind.Month != 3 || *ind.Period != 3):
			t.Errorf("portal_report_conformance: month %v, period %v, want 3", *ind.Month, *ind.Period)
		case ind.ID == "security_incidents" && (*ind.Month != 0 || *ind.Period != 0):
			t.Errorf("security_incidents: month %v, period %v, want 0", *ind.Month, *ind.Period)
		}
	}
	var html, csv bytes.Buffer
	must(r.WriteHTML(&html))
	must(r.WriteCSV(&csv))
	page := html.String()
	if strings.Contains(page, hostile) || strings.Contains(page, `<script src="https://evil.example`) {
		t.Error("outside text rendered unescaped")
	}
	for _, want := range []string{"、网站内容监测（本月）", "信息安全事件（台账五(六)）", "外部来源脚本", "主管部门安全事件通报", "李四 于 2026-10-21 09:00:00 确认为正常改版",
		"缺少「信用承诺信息」部分", "PDF不完整 1 次", "栏目内容更新", "未及时更新", "&lt;img src=x onerror=alert(&#34;报告&#34;)&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, gone := range []string{"十一月的", "月末之后才记录"} {
		if strings.Contains(page, gone) {
			t.Errorf("the report shows %q, recorded after the month's end", gone)
		}
	}
	if !strings.Contains(csv.String(), "缺少「信用承诺信息」部分（2022年版标准第6部分）；报告中的企业名称") {
		t.Errorf("the CSV lacks the reasons:\n%s", csv.String())
	}
	if _, err := Verify(html.Bytes(), VerifyOptions{}); err != nil {
		t.Errorf("the report does not verify: %v", err)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/report/reporttest"
)

// TestScoreForPeople: the score card reads as the office reads it — the ledger's title with
// the configured city, a headline of points held and lost, each row by its Chinese name and
// ledger row, gates as 达标/未达标, percentages with two decimals — and never names another
// city.
func TestScoreForPeople(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ledger.db")
	l, _ := reporttest.October(t, db)
	l.Close()
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), `
portal:
  targets:
    - {name: credit-portal, url: "https://credit.example.gov.cn/"}
storage: {path: `+db+`}
assessment: {period_start: 2026-01-01, city: 安阳市}
`)
	out, stderr, code := runCLI(t, "score", "--config.file", cfg, "--as-of", "2026-10-31")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"《安阳市创建第三批社会信用体系建设示范城市工作台账》评分卡\n考核周期 2026-01-01 至 2026-11-01 00:00（北京时间）\n",
		"\n可监测指标 17 分，已扣 0.5 分（6 项无数据）；基础指标 1 项未达标\n",
		"\n信用门户网站可访问性（五(四)1）：1.5 / 2 分\n    本周期 1 起，每起扣 0.5 分，最低 0 分\n",
		"\n“双公示”上报率、合规率、及时率（基础指标4）：未达标\n    各项比率须均为 100 %：100.00 %、50.00 %、100.00 %\n",
		"\n统一社会信用代码重错率（五(一)1）：1 / 1 分\n    观测值 0.00 %；超出 0.00 % 的部分每 0.001 % 扣 0.1 分；基础指标门槛：低于 0.01 %\n",
		"\n异议处理平均时间（五(二)2）：无数据\n",
		"\n统一社会信用代码重错率门槛（基础指标1）：达标\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("score output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "濮阳") {
		t.Errorf("another city is named:\n%s", out)
	}
	if os.Getenv("CREDITWATCH_SHOW") != "" {
		t.Log(out)
	}
}

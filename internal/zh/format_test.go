package zh

import (
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/scoring"
)

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0秒", 59 * time.Second: "59秒", 61 * time.Second: "1分1秒",
		2*time.Hour + 30*time.Second: "2小时30秒", 1500 * time.Millisecond: "2秒"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatPoints(t *testing.T) {
	for v, want := range map[float64]string{2: "2", 1.5: "1.5", 0.7999999999999998: "0.8", 1.996: "1.996", 0: "0"} {
		if got := FormatPoints(v); got != want {
			t.Errorf("FormatPoints(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestPercent(t *testing.T) {
	for v, want := range map[float64]string{0.0141115: "1.41 %", 1: "100.00 %", 0: "0.00 %", 1e-5: "0.001 %",
		5e-5: "0.005 %", 1e-4: "0.01 %", 0.99995: "100.00 %", 0.9999: "99.99 %", 2.5e-7: "0.000025 %"} {
		if got := Percent(v); got != want {
			t.Errorf("Percent(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{3: "3", 5.2: "5.2", 5.25: "5.25", 5.256: "5.26", 0: "0"} {
		if got := Number(v); got != want {
			t.Errorf("Number(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestErrorText(t *testing.T) {
	for in, want := range map[string]string{
		"dial tcp 127.0.0.1:9: connect: connection refused":                                    "连接被拒绝（dial tcp 127.0.0.1:9: connect: connection refused）",
		"lookup credit.example: no such host":                                                  "域名解析失败（lookup credit.example: no such host）",
		"context deadline exceeded (Client.Timeout exceeded)":                                  "超时（context deadline exceeded (Client.Timeout exceeded)）",
		"tls: failed to verify certificate: x509: certificate has expired or is not yet valid": "证书已过期（tls: failed to verify certificate: x509: certificate has expired or is not yet valid）",
		"HTTP 502, expected [200]":                                                             "HTTP 状态码异常（HTTP 502, expected [200]）",
		`body does not contain "信用"`:                                                           `页面缺少预期内容（body does not contain "信用"）`,
		"something new":                                                                        "something new",
		"":                                                                                     "",
	} {
		if got := ErrorText(in); got != want {
			t.Errorf("ErrorText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeadline(t *testing.T) {
	pts := func(id string, max, got float64, known bool) scoring.Result {
		return scoring.Result{ID: id, Observable: true, MaxPoints: max, Points: got, Known: known}
	}
	gate := func(known, pass bool) scoring.Result {
		return scoring.Result{Observable: true, Gate: true, Known: known, GatePass: pass}
	}
	for _, tc := range []struct {
		rows []scoring.Result
		want string
	}{
		{[]scoring.Result{pts("a", 2, 1.5, true), pts("b", 4, 0, false), gate(true, false), gate(true, true)},
			"可监测指标 6 分，已扣 0.5 分（1 项无数据）；基础指标 1 项未达标"},
		{[]scoring.Result{pts("a", 2, 2, true), gate(false, false)}, "可监测指标 2 分，已扣 0 分；基础指标 1 项无数据"},
		{[]scoring.Result{pts("a", 2, 2, true), gate(true, true), {MaxPoints: 7}}, "可监测指标 2 分，已扣 0 分；可监测的基础指标均达标"},
	} {
		if got := Headline(tc.rows); got != tc.want {
			t.Errorf("Headline = %q, want %q", got, tc.want)
		}
	}
}

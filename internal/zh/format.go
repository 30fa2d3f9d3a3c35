package zh

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatPoints writes points with at most three decimals and no trailing zeros.
func FormatPoints(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

func itoa(i int) string { return strconv.Itoa(i) }

// OutcomeName is an outcome class in Chinese.
func OutcomeName(o string) string {
	if n, ok := outcomeNames[o]; ok {
		return n
	}
	return o
}

var outcomeNames = map[string]string{
	"ok": "正常", "timeout": "超时", "connect_error": "连接失败", "dns_error": "域名解析失败",
	"tls_error": "证书或TLS错误", "http_status": "HTTP状态异常", "content_mismatch": "页面内容不符",
	"challenged": "被防火墙拦截（挑战页）",
}

// FormatDuration writes a duration in Chinese units, to the second.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	var b strings.Builder
	if h > 0 {
		b.WriteString(itoa(h) + "小时")
	}
	if m > 0 {
		b.WriteString(itoa(m) + "分")
	}
	if s > 0 || b.Len() == 0 {
		b.WriteString(itoa(s) + "秒")
	}
	return b.String()
}

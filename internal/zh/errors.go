package zh

import (
	"regexp"
	"strings"
)

// errorPhrases translate the common probe and fetch errors, matched in order on the
// original (English) text; the first match wins.
var errorPhrases = []struct {
	re *regexp.Regexp
	zh string
}{
	{regexp.MustCompile(`(?i)connection refused`), "连接被拒绝"},
	{regexp.MustCompile(`(?i)connection reset`), "连接被重置"},
	{regexp.MustCompile(`(?i)no such host|server misbehaving|dns`), "域名解析失败"},
	{regexp.MustCompile(`(?i)deadline exceeded|timeout|timed out`), "超时"},
	{regexp.MustCompile(`(?i)certificate has expired|certificate.*expired`), "证书已过期"},
	{regexp.MustCompile(`(?i)certificate is valid for|not valid for any names|doesn't match`), "证书与域名不符"},
	{regexp.MustCompile(`(?i)unknown authority|self.signed`), "证书不受信任"},
	{regexp.MustCompile(`(?i)tls|x509|handshake`), "TLS 握手失败"},
	{regexp.MustCompile(`(?i)network is unreachable|no route to host|host is unreachable`), "网络不可达"},
	{regexp.MustCompile(`(?i)EOF`), "连接被意外关闭"},
	{regexp.MustCompile(`(?i)challenge|web application firewall`), "被网站防火墙拦截（挑战页）"},
	{regexp.MustCompile(`(?i)body does not contain`), "页面缺少预期内容"},
	{regexp.MustCompile(`(?i)larger than the .*limit`), "页面超过大小上限"},
	{regexp.MustCompile(`(?i)too many redirects|stopped after \d+ redirects`), "重定向次数过多"},
	{regexp.MustCompile(`(?i)redirect`), "重定向被拒绝"},
	{regexp.MustCompile(`^HTTP (\d{3})`), "HTTP 状态码异常"},
}

// ErrorText translates a probe's or a fetch's error for people reading Chinese, keeping the
// original beside it: "连接被拒绝（dial tcp 10.0.0.1:443: connect: connection refused）". An
// error it does not know is given as it is.
func ErrorText(original string) string {
	original = strings.TrimSpace(original)
	if original == "" {
		return ""
	}
	for _, p := range errorPhrases {
		if p.re.MatchString(original) {
			return p.zh + "（" + original + "）"
		}
	}
	return original
}

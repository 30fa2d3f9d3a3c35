package zh

// Names, in Chinese, of what the content checks report.

var ruleNames = map[string]string{
	"keyword": "涉赌涉黄诈骗关键词", "must_not_contain": "禁止出现的内容", "foreign_script": "外部来源脚本",
	"foreign_frame": "外部来源框架", "foreign_resource": "外部来源资源", "foreign_link": "指向外部站点的链接",
	"hidden_link": "隐藏链接", "title_changed": "页面标题被改", "structure_changed": "页面结构大幅变化",
}

// RuleName is a defacement rule in Chinese.
func RuleName(rule string) string { return nameOr(ruleNames, rule) }

var fetchClassNames = map[string]string{
	"timeout": "超时", "connect_error": "连接失败", "dns_error": "域名解析失败", "tls_error": "证书或TLS错误",
	"http_status": "HTTP状态异常", "challenged": "被防火墙拦截", "too_large": "内容超过读取上限",
	"content_encoding": "压缩编码错误", "content_type": "既非网页也非PDF", "html_unreadable": "网页结构异常",
	"pdf_truncated": "PDF不完整", "pdf_broken": "PDF损坏", "pdf_decompress_limit": "PDF解压超限", "not_report": "不是信用报告",
}

// FetchClassName is the class of a report that could not be fetched or read, in Chinese.
func FetchClassName(class string) string { return nameOr(fetchClassNames, class) }

var securityKinds = map[string]string{"defacement": "网页被篡改", "intrusion": "被成功入侵", "notified": "主管部门安全事件通报"}

// SecurityKindName is the kind of a security incident in Chinese.
func SecurityKindName(kind string) string { return nameOr(securityKinds, kind) }

func nameOr(m map[string]string, k string) string {
	if n, ok := m[k]; ok {
		return n
	}
	return k
}

package app

import (
	"os"
	"testing"

	"github.com/creditwatch/creditwatch/internal/metrics"
)

func TestLinks(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, external, runbook string
		listen                  []string
		want                    metrics.Links
	}{
		{"both set", "https://cw.example.gov.cn/", "https://wiki.example.gov.cn/creditwatch/runbooks.html", []string{":9797"},
			metrics.Links{StatusURL: "https://cw.example.gov.cn/", RunbookURL: "https://wiki.example.gov.cn/creditwatch/runbooks.html"}},
		{"runbooks under the status page", "https://cw.example.gov.cn", "", []string{":9797"},
			metrics.Links{StatusURL: "https://cw.example.gov.cn/", RunbookURL: "https://cw.example.gov.cn/runbooks/"}},
		{"behind a proxy's path", "https://ops.example.gov.cn/creditwatch", "", nil,
			metrics.Links{StatusURL: "https://ops.example.gov.cn/creditwatch/", RunbookURL: "https://ops.example.gov.cn/creditwatch/runbooks/"}},
		{"derived from a listen address with a host", "", "", []string{"10.1.2.3:9797", ":9798"},
			metrics.Links{StatusURL: "http://10.1.2.3:9797/", RunbookURL: "http://10.1.2.3:9797/runbooks/"}},
		{"derived from a listen address without a host", "", "", []string{":9797"},
			metrics.Links{StatusURL: "http://" + host + ":9797/", RunbookURL: "http://" + host + ":9797/runbooks/"}},
		{"derived from the unspecified address", "", "", []string{"0.0.0.0:9797"},
			metrics.Links{StatusURL: "http://" + host + ":9797/", RunbookURL: "http://" + host + ":9797/runbooks/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Links(tc.external, tc.runbook, tc.listen)
			if err != nil || got != tc.want {
				t.Errorf("Links = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestLinksErrors(t *testing.T) {
	for _, tc := range []struct{ external, runbook, want string }{
		{"creditwatch.example.gov.cn", "",
			`--web.external-url "creditwatch.example.gov.cn" is not an absolute http or https URL; write it as the on-call engineer's browser reaches it, e.g. https://creditwatch.example.gov.cn/`},
		{"ftp://cw.example.gov.cn/", "",
			`--web.external-url "ftp://cw.example.gov.cn/" is not an absolute http or https URL; write it as the on-call engineer's browser reaches it, e.g. https://creditwatch.example.gov.cn/`},
		{"https://admin:pw@cw.example.gov.cn/", "",
			`--web.external-url must not carry a user name or password: every alert shows it; protect the page with --web.config.file instead`},
		{"https://cw.example.gov.cn/", "https://cw.example.gov.cn/runbooks/#top",
			`--web.runbook-url "https://cw.example.gov.cn/runbooks/#top" must not have a query string or a fragment (#…): the alerts add their own anchor; e.g. https://creditwatch.example.gov.cn/runbooks/`},
		{"https://cw.example.gov.cn/?x=1", "",
			`--web.external-url "https://cw.example.gov.cn/?x=1" must not have a query string or a fragment (#…): the alerts add their own anchor; e.g. https://creditwatch.example.gov.cn/`},
		{"https://cw.example.gov.cn/", "/runbooks/",
			`--web.runbook-url "/runbooks/" is not an absolute http or https URL; write it as the on-call engineer's browser reaches it, e.g. https://creditwatch.example.gov.cn/runbooks/`},
	} {
		_, err := Links(tc.external, tc.runbook, []string{":9797"})
		if err == nil || err.Error() != tc.want {
			t.Errorf("Links(%q, %q) = %v;\nwant %s", tc.external, tc.runbook, err, tc.want)
		}
	}
	if _, err := Links("", "", []string{"9797"}); err == nil || err.Error() != `--web.listen-address "9797": address 9797: missing port in address; or set --web.external-url` {
		t.Errorf("a listen address without a port: %v", err)
	}
}

package app

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/creditwatch/creditwatch/internal/metrics"
)

// Links works out the addresses the alerts link to from serve's --web.external-url and
// --web.runbook-url, as Prometheus does for its own external URL: unset, the status page is
// http://HOST:PORT/ of the first listen address (this machine's name when that address names
// no host), and the runbooks are served by creditwatch itself under /runbooks/.
func Links(externalURL, runbookURL string, listen []string) (metrics.Links, error) {
	status := externalURL
	if status == "" {
		s, err := defaultExternalURL(listen)
		if err != nil {
			return metrics.Links{}, err
		}
		status = s
	}
	su, err := checkBaseURL("--web.external-url", status, "https://creditwatch.example.gov.cn/")
	if err != nil {
		return metrics.Links{}, err
	}
	if !strings.HasSuffix(su.Path, "/") {
		su.Path += "/"
	}
	links := metrics.Links{StatusURL: su.String()}
	if runbookURL == "" {
		links.RunbookURL = su.JoinPath("runbooks").String() + "/"
		return links, nil
	}
	ru, err := checkBaseURL("--web.runbook-url", runbookURL, "https://creditwatch.example.gov.cn/runbooks/")
	if err != nil {
		return metrics.Links{}, err
	}
	links.RunbookURL = ru.String()
	return links, nil
}

// checkBaseURL parses an absolute http or https URL that alerts may show: no user
// information (it would be a password in every notification), no query or fragment (the
// alerts append an anchor).
func checkBaseURL(flag, raw, example string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("%s %q is not an absolute http or https URL; write it as the on-call engineer's browser reaches it, e.g. %s", flag, raw, example)
	case u.User != nil:
		return nil, fmt.Errorf("%s must not carry a user name or password: every alert shows it; protect the page with --web.config.file instead", flag)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%s %q must not have a query string or a fragment (#…): the alerts add their own anchor; e.g. %s", flag, raw, example)
	}
	return u, nil
}

func defaultExternalURL(listen []string) (string, error) {
	if len(listen) == 0 {
		return "", fmt.Errorf("no --web.listen-address to derive --web.external-url from; set --web.external-url")
	}
	host, port, err := net.SplitHostPort(listen[0])
	if err != nil {
		return "", fmt.Errorf("--web.listen-address %q: %w; or set --web.external-url", listen[0], err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if host, err = os.Hostname(); err != nil {
			return "", fmt.Errorf("finding this machine's name for --web.external-url: %w; set --web.external-url", err)
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/", nil
}

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// NotifyTestAlert is the alert name of `creditwatch notify test`.
const NotifyTestAlert = "CreditwatchNotifyTest"

// NotifyOptions are the flags of `creditwatch notify test`.
type NotifyOptions struct {
	// URLs are the Alertmanagers to send to, each its base URL (as in Prometheus's
	// alerting.alertmanagers): every one of a cluster, as Prometheus sends to every one.
	URLs []string
	// Severity routes the test like a real alert of that severity: critical pages on-call.
	Severity string
	// Labels are added to the test alert's, e.g. audience=office to try the office's route.
	Labels map[string]string
	// ResolveAfter is how long the test alert lasts before it resolves by itself.
	ResolveAfter time.Duration
	Timeout      time.Duration
	Out          io.Writer
	Now          func() time.Time // default time.Now
}

// postableAlert is an alert as Alertmanager's API v2 takes it (POST /api/v2/alerts).
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// NotifyTest sends one test alert through each Alertmanager, routed like a real alert of its
// severity, and says whether each accepted it and which receivers it was routed to. It fails
// with exit code 3 when an Alertmanager cannot be reached or refuses the alert, and 2 on a bad
// flag.
func NotifyTest(ctx context.Context, o NotifyOptions) error {
	if len(o.URLs) == 0 {
		return exitErr(2, "no --alertmanager.url: give the Alertmanager's address, e.g. --alertmanager.url=http://alertmanager:9093")
	}
	bases := make([]*url.URL, len(o.URLs))
	for i, raw := range o.URLs {
		u, err := alertmanagerURL(raw)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		bases[i] = u
	}
	alert, err := testAlert(o)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{Timeout: timeout}
	fmt.Fprintf(o.Out, "Sending the test alert %s (severity=%q) to %d Alertmanager(s); it resolves by itself at %s (Beijing time).\n",
		NotifyTestAlert, alert.Labels["severity"], len(bases), alert.EndsAt.In(clock.Shanghai).Format("2006-01-02 15:04:05"))
	failed := 0
	for _, base := range bases {
		name := base.Redacted()
		if err := postAlert(ctx, client, base, alert); err != nil {
			failed++
			fmt.Fprintf(o.Out, "%s: NOT accepted: %v\n", name, err)
			continue
		}
		receivers, err := routedTo(ctx, client, base, alert.Labels)
		switch {
		case err != nil:
			fmt.Fprintf(o.Out, "%s: accepted; its receivers could not be listed (%v)\n", name, err)
		case len(receivers) == 0:
			fmt.Fprintf(o.Out, "%s: accepted; not listed yet among its alerts (another cluster member may hold it)\n", name)
		default:
			fmt.Fprintf(o.Out, "%s: accepted; routed to %s\n", name, strings.Join(receivers, ", "))
		}
	}
	if failed > 0 {
		return exitErr(3, "%d of %d Alertmanagers did not accept the test alert", failed, len(bases))
	}
	fmt.Fprintf(o.Out, "The receivers should show \"%s\" after the route's group_wait; if one does not, see its Alertmanager's log (notify errors name the receiver).\n",
		alert.Annotations["summary"])
	return nil
}

func alertmanagerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--alertmanager.url %q is not an http or https URL; give the Alertmanager's base URL, e.g. http://alertmanager:9093", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Path, "/api/") {
		return nil, fmt.Errorf("--alertmanager.url %s must be the Alertmanager's base URL, without /api/… or a query, e.g. http://alertmanager:9093", u.Redacted())
	}
	return u, nil
}

func testAlert(o NotifyOptions) (postableAlert, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	severity := o.Severity
	if severity == "" {
		severity = "critical"
	}
	start := now().UTC().Truncate(time.Second)
	resolve := o.ResolveAfter
	if resolve <= 0 {
		resolve = 5 * time.Minute
	}
	host, _ := os.Hostname()
	labels := map[string]string{"alertname": NotifyTestAlert, "severity": severity,
		// Tells this test from the earlier ones, so that it is a new alert.
		"test_id": strconv.FormatInt(start.Unix(), 10)}
	names := make([]string, 0, len(o.Labels))
	for k := range o.Labels {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := o.Labels[k]
		switch {
		case !model.LabelName(k).IsValidLegacy() || strings.HasPrefix(k, "__"):
			return postableAlert{}, fmt.Errorf("--label %s=%s: %q is not a label name (letters, digits and _, not starting with a digit or __)", k, v, k)
		case k == "alertname":
			return postableAlert{}, fmt.Errorf("--label alertname=%s: the test alert is always %s, so that it is never taken for a real one", v, NotifyTestAlert)
		case !utf8.ValidString(v) || v == "":
			return postableAlert{}, fmt.Errorf("--label %s=%q: the value must be non-empty UTF-8 text", k, v)
		}
		labels[k] = v
	}
	at := start.In(clock.Shanghai).Format("2006-01-02 15:04:05")
	end := start.Add(resolve)
	endAt := end.In(clock.Shanghai).Format("2006-01-02 15:04:05")
	return postableAlert{
		Labels: labels,
		Annotations: map[string]string{
			"summary": "通知测试：creditwatch 告警通路 / Notification test from creditwatch",
			"description": fmt.Sprintf("这是 %s 于 %s（北京时间）用 creditwatch notify test 发出的测试告警，无需处理：收到即说明告警可经 Alertmanager 送达本接收方。它将于 %s 自动恢复。\n"+
				"A test alert sent with creditwatch notify test from %s at %s (Beijing time); nothing to do. It resolves by itself at %s.",
				orUnknown(host), at, endAt, orUnknown(host), at, endAt),
			"points": "不扣分（测试告警）",
		},
		StartsAt: start,
		EndsAt:   end,
	}, nil
}

func orUnknown(host string) string {
	if host == "" {
		return "unknown host"
	}
	return host
}

// postAlert posts the alert to base's API v2 and turns every way it can fail into an error
// that says how to fix it.
func postAlert(ctx context.Context, client *http.Client, base *url.URL, a postableAlert) error {
	body, err := json.Marshal([]postableAlert{a})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath("api/v2/alerts").String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "creditwatch-notify-test")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Alertmanager (%v); check that it runs there (curl %s) and that the URL is the one in Prometheus's alerting.alertmanagers",
			redactErr(err, base), base.JoinPath("-/healthy").Redacted())
	}
	defer resp.Body.Close()
	excerpt := bodyExcerpt(resp.Body)
	if resp.StatusCode/100 == 2 {
		return nil
	}
	hint := ""
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		hint = "; no Alertmanager API v2 there: give Alertmanager's own base URL (version 0.16 or later), with its --web.route-prefix if it has one"
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		hint = "; Alertmanager sits behind authentication: put the user in the URL (https://USER:PASSWORD@HOST/) or test from where Prometheus sends"
	case resp.StatusCode == http.StatusBadRequest:
		hint = "; Alertmanager refused the alert itself: see its message"
	case resp.StatusCode >= 500:
		hint = "; Alertmanager failed: see its log"
	}
	if excerpt != "" {
		return fmt.Errorf("Alertmanager answered HTTP %s: %q%s", resp.Status, excerpt, hint)
	}
	return fmt.Errorf("Alertmanager answered HTTP %s%s", resp.Status, hint)
}

// routedTo lists the receivers Alertmanager routes the alert to, read back with its labels.
func routedTo(ctx context.Context, client *http.Client, base *url.URL, labels map[string]string) ([]string, error) {
	u := base.JoinPath("api/v2/alerts")
	q := url.Values{}
	for _, k := range []string{"alertname", "test_id"} {
		q.Add("filter", fmt.Sprintf("%s=%q", k, labels[k]))
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, redactErr(err, base)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	var alerts []struct {
		Receivers []struct {
			Name string `json:"name"`
		} `json:"receivers"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&alerts); err != nil {
		return nil, fmt.Errorf("reading the alerts: %w", err)
	}
	var out []string
	for _, a := range alerts {
		for _, r := range a.Receivers {
			if !slices.Contains(out, r.Name) {
				out = append(out, r.Name)
			}
		}
	}
	return out, nil
}

// bodyExcerpt is the start of an answer, on one line, for an error message.
func bodyExcerpt(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 300))
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "")), " ")
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// redactErr keeps a password of the URL out of an error net/http wrapped it in.
func redactErr(err error, base *url.URL) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	if p, ok := base.User.Password(); ok && p != "" {
		return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
	}
	return err
}

// Package delivery hands each finished month's report to the credit office: on the first
// working day after the month ends, at a set time (Asia/Shanghai), it freezes the report,
// writes it in every format to the reports directory and tells the configured webhooks
// (a WeCom group bot, or anything that takes JSON). A delivery missed while creditwatch was
// down happens at its next start.
package delivery

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/report"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// DueAt is when a month's report is delivered: the first working day after the month
// ends, at the time of day at ("HH:MM", Asia/Shanghai).
func DueAt(month string, cal *workday.Calendar, at string) (time.Time, error) {
	_, end, err := clock.ParseMonth(month)
	if err != nil {
		return time.Time{}, err
	}
	day, err := cal.AddWorkdays(clock.LastDay(end), 1)
	if err != nil {
		return time.Time{}, fmt.Errorf("finding the first working day after %s: %w", month, err)
	}
	hm, err := time.Parse("15:04", at)
	if err != nil {
		return time.Time{}, fmt.Errorf("delivery time %q: %w", at, err)
	}
	return day.Add(time.Duration(hm.Hour())*time.Hour + time.Duration(hm.Minute())*time.Minute), nil
}

// lookback is how many finished months a start looks back for a missed delivery.
const lookback = 3

// Deliverer delivers the reports a ledger's months are due.
type Deliverer struct {
	Ledger   *ledger.Ledger
	Config   *config.Config
	Settings card.Settings
	Key      ed25519.PrivateKey // nil: unsigned
	Renderer string
	Client   *http.Client
	Log      *zap.Logger
}

// Run delivers every month of the last few that is due at now and not delivered yet.
func (d *Deliverer) Run(ctx context.Context, now time.Time) error {
	if d.Config.Reports.Dir == "" {
		return nil
	}
	var errs []error
	for k := lookback; k >= 1; k-- {
		month := clock.MonthStart(now).AddDate(0, -k, 0).Format("2006-01")
		if err := d.due(ctx, month, now); err != nil {
			errs = append(errs, fmt.Errorf("delivering the report of %s: %w", month, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Deliverer) due(ctx context.Context, month string, now time.Time) error {
	at, err := DueAt(month, d.Settings.Calendar, d.Config.Reports.DeliverAt)
	if err != nil || now.Before(at) {
		return err
	}
	from, end, _ := clock.ParseMonth(month)
	if done, err := d.Ledger.Delivered(ctx, month); err != nil || done != nil {
		return err
	}
	if ok, err := d.Ledger.Watched(ctx, from, end); err != nil || !ok {
		return err // nothing watched, nothing to deliver
	}
	_, err = d.Deliver(ctx, month, now)
	return err
}

// Deliver freezes (or reads back) a finished month's report, writes its files and tells
// the webhooks, and records the delivery.
func (d *Deliverer) Deliver(ctx context.Context, month string, now time.Time) (*ledger.Delivery, error) {
	r, err := report.Generate(ctx, d.Ledger, d.Config, d.Settings, report.Options{Month: month, Now: now, Key: d.Key, Renderer: d.Renderer})
	if err != nil {
		return nil, err
	}
	if !r.Meta.Frozen() {
		return nil, fmt.Errorf("month %s is not finished or was not watched: nothing to deliver", month)
	}
	files, err := d.write(r)
	if err != nil {
		return nil, err
	}
	del := ledger.Delivery{Month: month, DeliveredAt: now, Files: files}
	for _, w := range d.Config.Reports.Webhooks {
		outcome := "ok"
		if err := d.notify(ctx, w, r, files); err != nil {
			outcome = err.Error()
			d.Log.Error("report notice failed", zap.String("webhook", w.Name), zap.String("month", month), zap.Error(err))
		}
		del.Notices = append(del.Notices, w.Name+": "+outcome)
	}
	if err := d.Ledger.RecordDelivery(ctx, del); err != nil {
		return nil, err
	}
	d.Log.Info("monthly report delivered", zap.String("month", month), zap.Int("version", r.Meta.Version),
		zap.String("digest", r.Meta.Digest), zap.Strings("files", files))
	return &del, nil
}

// write writes the report's files, each whole or not at all.
func (d *Deliverer) write(r *report.Report) ([]string, error) {
	base := filepath.Join(d.Config.Reports.Dir, "creditwatch-"+r.Meta.Month)
	var files []string
	for _, f := range []struct {
		suffix string
		write  func(io.Writer) error
	}{{".html", r.WriteHTML}, {"-print.html", r.WritePrintHTML}, {".csv", r.WriteCSV}, {".json", r.WriteJSON}} {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return nil, err
		}
		path := base + f.suffix
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, buf.Bytes(), 0o640); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		files = append(files, path)
	}
	return files, nil
}

func (d *Deliverer) notify(ctx context.Context, w config.Webhook, r *report.Report, files []string) error {
	target := w.URL
	if w.URLFile != "" {
		b, err := os.ReadFile(w.URLFile)
		if err != nil {
			return fmt.Errorf("reading url_file: %w", err)
		}
		target = strings.TrimSpace(string(b))
	}
	body, err := Notice(w.Format, r, d.Config.Reports.LinkBase, files)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL is not valid") // never repeat the URL: it carries a key
	}
	req.Header.Set("Content-Type", "application/json")
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr interface{ Unwrap() error }
		if errors.As(err, &uerr) {
			err = uerr.Unwrap() // drop the URL net/http puts in front
		}
		return fmt.Errorf("posting the notice: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the webhook answered HTTP %d", resp.StatusCode)
	}
	if w.Format == "wecom" {
		var ack struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if json.Unmarshal(reply, &ack) != nil || ack.ErrCode != 0 {
			return fmt.Errorf("WeCom refused the notice: errcode %d %s", ack.ErrCode, ack.ErrMsg)
		}
	}
	return nil
}

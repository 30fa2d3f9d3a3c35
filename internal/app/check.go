package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/incident"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// CheckConfig validates a config file and lists every problem.
func CheckConfig(path string, out io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	set, err := card.SettingsOf(cfg)
	if err != nil {
		return err
	}
	from := set.PeriodStart(time.Now())
	fmt.Fprintf(out, "%s: OK, %d portal target(s), ledger at %s, period from %s\n", path,
		len(cfg.Portal.Targets), ledger.Describe(cfg.Storage.Ledger()), clock.Date(from))
	return nil
}

// ScoreOptions are the score subcommand's flags.
type ScoreOptions struct {
	ConfigFile, StoragePath, Format string
	AsOf                            string // YYYY-MM-DD: the card as it stood at the end of that day; now when empty
	Out                             io.Writer
}

// Score prints the score card of the period from the ledger, as of now or of the end of a
// past day.
func Score(ctx context.Context, o ScoreOptions) error {
	if o.Format != "text" && o.Format != "json" {
		return exitErr(2, "--format: %q is not text or json", o.Format)
	}
	at := card.Now(time.Now())
	if o.AsOf != "" {
		d, err := clock.ParseDate(o.AsOf)
		if err != nil {
			return exitErr(2, "--as-of: %w", err)
		}
		at = clock.NextDay(d)
		if at.After(time.Now()) {
			at = time.Now()
		}
	}
	cfg, err := config.Load(o.ConfigFile)
	if err != nil {
		return err
	}
	set, err := card.SettingsOf(cfg)
	if err != nil {
		return err
	}
	storage := o.StoragePath
	if storage == "" {
		storage = cfg.Storage.Ledger()
	}
	l, err := ledger.OpenStorage(ctx, storage, ledger.PostgresOptions{PasswordFile: cfg.Storage.PasswordFile})
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := card.Period(ctx, l, set, at, card.Options{})
	if err != nil {
		return err
	}
	var outages []incident.Outage
	if c.Portal != nil {
		outages = c.Portal.Outages
	}
	if o.Format == "json" {
		return writeCardJSON(o.Out, c.Results, outages, c.From, at, cfg.Assessment.LedgerTitle)
	}
	return writeCardText(o.Out, c.Results, outages, c.From, at, cfg.Assessment.LedgerTitle)
}

func outageRows(os []incident.Outage) []incident.OutageJSON {
	out := make([]incident.OutageJSON, 0, len(os))
	for _, o := range os {
		out = append(out, o.JSON())
	}
	return out
}

type cardRow struct {
	ID         string   `json:"id"`
	Ledger     string   `json:"ledger"`
	Name       string   `json:"name"`
	Title      string   `json:"title"`
	MaxPoints  float64  `json:"max_points"`
	Observable bool     `json:"observable"`
	Points     *float64 `json:"points"`
	GatePass   *bool    `json:"gate_pass,omitempty"`
	Verdict    string   `json:"verdict"`
	Basis      string   `json:"basis"`
}

func rows(card []scoring.Result) []cardRow {
	out := make([]cardRow, 0, len(card))
	for _, r := range card {
		row := cardRow{ID: r.ID, Ledger: r.Ledger, Name: r.Name, Title: r.Title, MaxPoints: r.MaxPoints, Observable: r.Observable,
			Verdict: zh.Verdict(r), Basis: zh.ExplainZH(r)}
		if r.Known && r.MaxPoints > 0 {
			p := r.Points
			row.Points = &p
		}
		if r.Known && r.Gate {
			g := r.GatePass
			row.GatePass = &g
		}
		out = append(out, row)
	}
	return out
}

func writeCardJSON(out io.Writer, card []scoring.Result, outages []incident.Outage, from, to time.Time, ledgerTitle string) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"ledger_title": ledgerTitle,
		"period_start": from.In(clock.Shanghai).Format(time.RFC3339),
		"period_end":   to.In(clock.Shanghai).Format(time.RFC3339),
		"headline":     zh.Headline(card),
		"indicators":   rows(card),
		"outages":      outageRows(outages),
	})
}

// writeCardText writes the card for people: a headline, then each observable row by its
// ledger row and Chinese name, its verdict and how it was reached. (A list, not a table:
// Chinese characters are two columns wide, which tabwriter does not know.)
func writeCardText(out io.Writer, card []scoring.Result, outages []incident.Outage, from, to time.Time, ledgerTitle string) error {
	fmt.Fprintf(out, "《%s》评分卡\n考核周期 %s 至 %s（北京时间）\n%s\n\n", ledgerTitle, from.In(clock.Shanghai).Format("2006-01-02"),
		to.In(clock.Shanghai).Format("2006-01-02 15:04"), zh.Headline(card))
	for _, r := range card {
		if !r.Observable {
			continue
		}
		fmt.Fprintf(out, "%s：%s\n    %s\n", zh.IndicatorName(r), zh.Verdict(r), zh.ExplainZH(r))
	}
	n := 0
	for _, r := range card {
		if !r.Observable {
			n++
		}
	}
	if len(outages) > 0 {
		fmt.Fprintf(out, "\n计分的不可访问情形（%d 起）：\n", len(outages))
		for _, o := range outages {
			end := "进行中"
			if !o.Open() {
				end = o.End.In(clock.Shanghai).Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(out, "  计分事件 %d  站点 %s  %s 至 %s  页面 %s  观测到的监测点 %s\n", o.ID, o.Site,
				o.Start.In(clock.Shanghai).Format("2006-01-02 15:04:05"), end, strings.Join(o.Targets, "、"), strings.Join(o.Vantages, "、"))
		}
	}
	fmt.Fprintf(out, "\n另有 %d 项需佐证材料、无法监测的台账条目（见状态页或 --format json）。\n", n)
	return nil
}

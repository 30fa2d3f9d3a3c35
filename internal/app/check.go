package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"

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
		len(cfg.Portal.Targets), cfg.Storage.Path, clock.Date(from))
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
		storage = cfg.Storage.Path
	}
	l, err := ledger.Open(ctx, storage)
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := card.Period(ctx, l, set, at, card.Options{})
	if err != nil {
		return err
	}
	if o.Format == "json" {
		return writeCardJSON(o.Out, c.Results, c.From, at)
	}
	return writeCardText(o.Out, c.Results, c.From, at)
}

type cardRow struct {
	ID         string   `json:"id"`
	Ledger     string   `json:"ledger"`
	Title      string   `json:"title"`
	MaxPoints  float64  `json:"max_points"`
	Observable bool     `json:"observable"`
	Points     *float64 `json:"points"`
	GatePass   *bool    `json:"gate_pass,omitempty"`
	Basis      string   `json:"basis"`
}

func rows(card []scoring.Result) []cardRow {
	out := make([]cardRow, 0, len(card))
	for _, r := range card {
		row := cardRow{ID: r.ID, Ledger: r.Ledger, Title: r.Title, MaxPoints: r.MaxPoints, Observable: r.Observable, Basis: zh.ExplainZH(r)}
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

func writeCardJSON(out io.Writer, card []scoring.Result, from, to time.Time) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"period_start": from.In(clock.Shanghai).Format(time.RFC3339),
		"period_end":   to.In(clock.Shanghai).Format(time.RFC3339),
		"indicators":   rows(card),
	})
}

func writeCardText(out io.Writer, card []scoring.Result, from, to time.Time) error {
	fmt.Fprintf(out, "评分卡 · 考核周期 %s 至 %s（北京时间）\n\n", from.In(clock.Shanghai).Format("2006-01-02"),
		to.In(clock.Shanghai).Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "台账条目\t指标\t满分\t得分\t依据")
	for _, r := range rows(card) {
		if !r.Observable {
			continue
		}
		pts := "—"
		switch {
		case r.Points != nil:
			pts = zh.FormatPoints(*r.Points)
		case r.GatePass != nil && *r.GatePass:
			pts = "达标"
		case r.GatePass != nil:
			pts = "未达标"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Ledger, r.ID, zh.FormatPoints(r.MaxPoints), pts, r.Basis)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := 0
	for _, r := range card {
		if !r.Observable {
			n++
		}
	}
	fmt.Fprintf(out, "\n另有 %d 项需佐证材料、无法监测的台账条目（见状态页或 --format json）。\n", n)
	return nil
}

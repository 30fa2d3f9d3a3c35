package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/creditwatch/creditwatch/internal/zh"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/service"
)

// CheckConfig validates a config file and lists every problem.
func CheckConfig(path string, out io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: OK, %d portal target(s), ledger at %s, period from %s\n", path,
		len(cfg.Portal.Targets), cfg.Storage.Path, cfg.Assessment.PeriodFrom(time.Now()).Format(time.DateOnly))
	return nil
}

// Score prints the score card of the period to date from the ledger.
func Score(ctx context.Context, cfgPath, storage, format string, out io.Writer) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if storage == "" {
		storage = cfg.Storage.Path
	}
	l, err := ledger.Open(ctx, storage)
	if err != nil {
		return err
	}
	defer l.Close()
	now := time.Now()
	card, err := service.Score(ctx, l, scoring.MustDefault(), cfg, now)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		return writeCardJSON(out, card, cfg.Assessment.PeriodFrom(now), now)
	case "text":
		return writeCardText(out, card, cfg.Assessment.PeriodFrom(now), now)
	}
	return fmt.Errorf("--format: %q is not text or json", format)
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
		"period_start": from.In(config.Shanghai).Format(time.RFC3339),
		"period_end":   to.In(config.Shanghai).Format(time.RFC3339),
		"indicators":   rows(card),
	})
}

func writeCardText(out io.Writer, card []scoring.Result, from, to time.Time) error {
	fmt.Fprintf(out, "评分卡 · 考核周期 %s 至 %s（北京时间）\n\n", from.In(config.Shanghai).Format("2006-01-02"),
		to.In(config.Shanghai).Format("2006-01-02 15:04"))
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

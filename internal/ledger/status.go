package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// What the status page reads besides the figures: probes' response times by bucket of
// time, and the state of each import source.

// ResponseBucket is one target's probes started in one bucket of time.
type ResponseBucket struct {
	Target string
	Start  time.Time
	Probes int
	Failed int
	// MeanSeconds and MaxSeconds are of the good probes; 0 when none was good.
	MeanSeconds, MaxSeconds float64
}

// ResponseTimes groups the probes started in [from, to) by target and bucket (buckets of
// the given width from from), by target and start. Buckets of whole quarter-hours, hours or
// days that begin at one are read from the rollups where the probes are rolled up.
func (l *Ledger) ResponseTimes(ctx context.Context, from, to time.Time, bucket time.Duration, targets ...string) ([]ResponseBucket, error) {
	if bucket < time.Millisecond {
		return nil, fmt.Errorf("response times: bucket %s is too small", bucket)
	}
	sums, err := l.probeSums(ctx, sumQuery{from: ms(from), to: ms(to), buckets: buckets{origin: ms(from), width: bucket.Milliseconds()}, targets: targets})
	if err != nil {
		return nil, fmt.Errorf("reading response times: %w", err)
	}
	out := make([]ResponseBucket, 0, len(sums))
	for _, s := range sums {
		out = append(out, ResponseBucket{Target: s.Target, Start: from.Add(time.Duration(s.Bucket) * bucket), Probes: s.Probes,
			Failed: s.Failed, MeanSeconds: s.GoodMeanSeconds(), MaxSeconds: s.GoodMaxSeconds})
	}
	return out, nil
}

// SourceSummary is what the ledger holds of one import source.
type SourceSummary struct {
	Source string
	// LastImport is when the source's latest file was imported whole; zero if none.
	LastImport time.Time
	Files      int // files seen: done, failed or under way
	Done       int
	Failed     int
	InProgress int // staged or being published
	// Waiting counts the records staged and not published yet.
	Waiting int
	// Streams are a change-stream source's streams with when each cursor last moved.
	Streams map[string]time.Time
}

// SourceSummaries sums up every source the ledger has seen a file or a cursor of, by name.
func (l *Ledger) SourceSummaries(ctx context.Context) ([]SourceSummary, error) {
	byName := map[string]*SourceSummary{}
	var order []string
	get := func(name string) *SourceSummary {
		s := byName[name]
		if s == nil {
			s = &SourceSummary{Source: name, Streams: map[string]time.Time{}}
			byName[name] = s
			order = append(order, name)
		}
		return s
	}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var name string
		var last int64
		var files, done, failed, under int
		if err := rows.Scan(&name, &files, &done, &failed, &under, &last); err != nil {
			return err
		}
		s := get(name)
		s.Files, s.Done, s.Failed, s.InProgress, s.LastImport = files, done, failed, under, fromMS(last)
		return nil
	}, `SELECT source, COUNT(*), SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END), SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN state IN ('staging', 'publishing') THEN 1 ELSE 0 END),
		COALESCE(MAX(CASE WHEN state = 'done' THEN imported_at END), 0) FROM source_files GROUP BY source ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("summing up import sources: %w", err)
	}
	err = l.scanRows(ctx, func(rows *sql.Rows) error {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return err
		}
		get(name).Waiting = n
		return nil
	}, `SELECT source, COUNT(*) FROM staged_records GROUP BY source ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("counting staged records: %w", err)
	}
	err = l.scanRows(ctx, func(rows *sql.Rows) error {
		var name, stream string
		var at int64
		if err := rows.Scan(&name, &stream, &at); err != nil {
			return err
		}
		get(name).Streams[stream] = fromMS(at)
		return nil
	}, `SELECT source, stream, updated_at FROM source_cursors ORDER BY source, stream`)
	if err != nil {
		return nil, fmt.Errorf("reading source cursors: %w", err)
	}
	out := make([]SourceSummary, 0, len(order))
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out, nil
}

// RejectedFiles lists the files whose import failed, the latest first, at most limit of
// them, with how many there are in all.
func (l *Ledger) RejectedFiles(ctx context.Context, limit int) ([]SourceFile, int, error) {
	var total int
	if err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM source_files WHERE state = 'failed'`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting rejected files: %w", err)
	}
	var out []SourceFile
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var f SourceFile
		var at int64
		if err := rows.Scan(&f.Source, &f.Name, &f.SHA256, &f.Size, &f.Records, &f.State, &f.Error, &at); err != nil {
			return err
		}
		f.ImportedAt = fromMS(at)
		out = append(out, f)
		return nil
	}, `SELECT source, name, sha256, size, records, state, error, imported_at FROM source_files WHERE state = 'failed'
		ORDER BY imported_at DESC, name LIMIT ?`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("listing rejected files: %w", err)
	}
	return out, total, nil
}

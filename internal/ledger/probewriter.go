package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditwatch/creditwatch/internal/incident"
)

// Probes are written by group commit. RecordProbe hands its probe to the ledger's probe
// writer, a single goroutine, and waits for the transaction that holds it to commit: the
// writer takes every probe that arrives while the previous transaction commits (and, with a
// commit window, those arriving within the window after the first), writes them in
// arrival order in one transaction, and answers each once it is on disk (synchronous=FULL).
// One fsync serves many probes; a probe is acknowledged, as before, only once its row is
// durable. A target's probes never run at once (its next probe starts after the last was
// answered), so a batch holds at most one of each target's, and a target's probes are
// written in the order they were made.
//
// If one probe of a batch cannot be written, the batch is rolled back and each of its probes
// written again in a transaction of its own: a probe's failure stays its own, as when
// each probe had its own transaction. If the transaction cannot begin or commit, every
// probe of the batch fails with that error, which its caller reports.

// maxBatch bounds the probes of one transaction.
const maxBatch = 256

// MaxCommitWindow bounds the commit window.
const MaxCommitWindow = 100 * time.Millisecond

// The statements of every probe, prepared once on the writer connection.
const (
	// The span's end is the span's own: a probe that moves only it does not write the
	// state row (recordProbe), whose span_end can be behind.
	loadStateSQL = `SELECT fail_streak, good_streak, streak_started_at, streak_outcome,
		streak_error, good_started_at, open_incident_id, span_id,
		COALESCE((SELECT ended_at FROM watch_spans WHERE id = span_id), span_end), streak_evidence, good_evidence
		FROM target_state WHERE target = ? AND vantage = ?`
	insertProbeSQL = `INSERT INTO probes (target, vantage, started_at, duration_seconds,
		outcome, failed, status_code, error, dns_seconds, connect_seconds, tls_seconds, first_byte_seconds,
		body_bytes, cert_expiry) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	extendSpanSQL = `UPDATE watch_spans SET ended_at = ? WHERE id = ?`
	newSpanSQL    = `INSERT INTO watch_spans (target, vantage, started_at, ended_at) VALUES (?,?,?,?) RETURNING id`
	saveStateSQL  = `INSERT INTO target_state (target, vantage, fail_streak, good_streak,
		streak_started_at, streak_outcome, streak_error, good_started_at, open_incident_id, span_id, span_end,
		streak_evidence, good_evidence)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (target, vantage) DO UPDATE SET fail_streak = excluded.fail_streak,
		good_streak = excluded.good_streak, streak_started_at = excluded.streak_started_at,
		streak_outcome = excluded.streak_outcome, streak_error = excluded.streak_error,
		good_started_at = excluded.good_started_at, open_incident_id = excluded.open_incident_id,
		span_id = excluded.span_id, span_end = excluded.span_end, streak_evidence = excluded.streak_evidence,
		good_evidence = excluded.good_evidence`
	failedInIncidentSQL = `UPDATE incidents SET failed_probes = failed_probes + 1 WHERE id = ?`
	baselineIDSQL       = `SELECT COALESCE(MAX(id), 0) FROM baselines WHERE target = ?`
)

// probeStmts are the prepared statements of a probe, prepared on the writer (db-wide) or
// bound to a batch's transaction.
type probeStmts struct {
	load, insert, extendSpan, newSpan, save, failedInIncident, baselineID *sql.Stmt
}

func (s *probeStmts) all() []**sql.Stmt {
	return []**sql.Stmt{&s.load, &s.insert, &s.extendSpan, &s.newSpan, &s.save, &s.failedInIncident, &s.baselineID}
}

var probeSQL = []string{loadStateSQL, insertProbeSQL, extendSpanSQL, newSpanSQL, saveStateSQL, failedInIncidentSQL, baselineIDSQL}

func prepareProbeStmts(ctx context.Context, db *sql.DB) (*probeStmts, error) {
	s := &probeStmts{}
	for i, p := range s.all() {
		st, err := db.PrepareContext(ctx, probeSQL[i])
		if err != nil {
			s.close()
			return nil, fmt.Errorf("preparing the probe statements: %w", err)
		}
		*p = st
	}
	return s, nil
}

// in binds the statements to a transaction (the writer's one connection: no new prepare).
func (s *probeStmts) in(ctx context.Context, tx *sql.Tx) *probeStmts {
	out := &probeStmts{}
	for i, p := range out.all() {
		*p = tx.StmtContext(ctx, *s.all()[i])
	}
	return out
}

func (s *probeStmts) close() {
	for _, p := range s.all() {
		if *p != nil {
			(*p).Close()
		}
	}
}

// probeWriter is the ledger's group commit of probes.
type probeWriter struct {
	queue chan *probeReq
	done  chan struct{} // closed when the writer goroutine has answered everything
	mu    sync.RWMutex  // closed is set under it; senders hold it read
	// closed: the ledger is closing, RecordProbe refuses new probes.
	closed  bool
	window  atomic.Int64 // the commit window, in nanoseconds
	pending atomic.Int64 // probes handed over and not yet answered
	stmts   *probeStmts
	// beforeCommit, for tests, runs before each batch's commit.
	beforeCommit func(batch int)

	// rows keeps each target's state row as its last probe committed it, so that a probe
	// need not read it back. Only the writer goroutine fills it, after a commit; a write of
	// target_state elsewhere (forgetStates) empties it and moves gen, so that a batch that
	// began before it keeps nothing.
	rowsMu sync.Mutex
	rows   map[stateKey]targetRow
	gen    int64
}

// stateKey names a resumable state: a target as watched from a vantage.
type stateKey struct{ target, vantage string }

// forgetStates is called by a transaction that changes target_state or the watch spans
// other than through a probe, before it commits.
func (l *Ledger) forgetStates() {
	pw := l.pw
	if pw == nil {
		return
	}
	pw.rowsMu.Lock()
	pw.gen++
	clear(pw.rows)
	pw.rowsMu.Unlock()
}

type probeReq struct {
	p     Probe
	pol   incident.Policy
	sc    Scoring
	reply chan probeResult
}

type probeResult struct {
	st       incident.State
	tr       incident.Transition
	baseline int64
	err      error
}

// ErrClosed: the ledger was closed.
var ErrClosed = errors.New("ledger closed")

func (l *Ledger) startProbeWriter(ctx context.Context) error {
	st, err := prepareProbeStmts(ctx, l.w)
	if err != nil {
		return err
	}
	l.pw = &probeWriter{queue: make(chan *probeReq, maxBatch), done: make(chan struct{}), stmts: st, rows: map[stateKey]targetRow{}}
	go l.pw.run(l)
	return nil
}

// stopProbeWriter refuses new probes, lets the writer commit those queued and waits for it.
func (l *Ledger) stopProbeWriter() {
	pw := l.pw
	if pw == nil {
		return
	}
	pw.mu.Lock()
	if !pw.closed {
		pw.closed = true
		close(pw.queue)
	}
	pw.mu.Unlock()
	<-pw.done
	pw.stmts.close()
}

// SetCommitWindow sets how long the probe writer waits, after a probe arrives, for others
// to commit with it (at most MaxCommitWindow). 0, the default, commits at once what has
// arrived, batching only the probes that arrive while the previous commit is on its way to
// disk. Set it before probes are recorded.
func (l *Ledger) SetCommitWindow(d time.Duration) {
	l.pw.window.Store(int64(min(max(d, 0), MaxCommitWindow)))
}

// RecordProbe writes a probe result, the incident transition it causes and its watch span,
// and returns the target's new state and the transition once they are on disk (group
// commit: see probewriter.go). sc describes an incident the probe opens. Once its probe is
// handed over, RecordProbe waits for the commit whatever ctx says: the probe is then
// written or not with its batch.
func (l *Ledger) RecordProbe(ctx context.Context, p Probe, pol incident.Policy, sc Scoring) (incident.State, incident.Transition, error) {
	r, err := l.RecordPortalProbe(ctx, p, pol, sc)
	return r.State, r.Transition, err
}

// Recorded is what writing a probe did.
type Recorded struct {
	State      incident.State      // the target's state after the probe
	Transition incident.Transition // what the probe changed
	// BaselineID is the target's baseline in force as the probe was written (BaselineID),
	// read in the probe's own transaction.
	BaselineID int64
}

// RecordPortalProbe is RecordProbe, also returning the target's baseline in force.
func (l *Ledger) RecordPortalProbe(ctx context.Context, p Probe, pol incident.Policy, sc Scoring) (Recorded, error) {
	if err := ctx.Err(); err != nil {
		return Recorded{}, fmt.Errorf("recording probe of %s: %w", p.Target, err)
	}
	req := &probeReq{p: p, pol: pol, sc: sc, reply: make(chan probeResult, 1)}
	pw := l.pw
	pw.mu.RLock()
	if pw.closed {
		pw.mu.RUnlock()
		return Recorded{}, fmt.Errorf("recording probe of %s: %w", p.Target, ErrClosed)
	}
	pw.pending.Add(1)
	defer pw.pending.Add(-1)
	pw.queue <- req
	pw.mu.RUnlock()
	r := <-req.reply
	return Recorded{State: r.st, Transition: r.tr, BaselineID: r.baseline}, r.err
}

// PendingProbes is how many probe results wait for their transaction to commit.
func (l *Ledger) PendingProbes() int { return int(l.pw.pending.Load()) }

func (pw *probeWriter) run(l *Ledger) {
	defer close(pw.done)
	var batch []*probeReq
	var timer *time.Timer
	for first := range pw.queue {
		batch = append(batch[:0], first)
		if window := time.Duration(pw.window.Load()); window > 0 {
			// The window is waited out without watching the queue: the probes that arrive
			// meanwhile wait in its buffer, where handing one over wakes no goroutine (a
			// receive per probe would wake the writer for each). Once the buffer is full,
			// senders wait for the window's end.
			if timer == nil {
				timer = time.NewTimer(window)
			} else {
				timer.Reset(window)
			}
			<-timer.C
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-pw.queue:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		pw.commit(l, batch)
		clear(batch)
	}
}

// commit writes a batch and answers each of its probes.
func (pw *probeWriter) commit(l *Ledger, batch []*probeReq) {
	res, err := pw.write(l, batch)
	var txErr *txError
	if err != nil && len(batch) > 1 && !errors.As(err, &txErr) {
		// One probe's statements failed: each probe again on its own, so that the failure is
		// that probe's alone.
		for _, r := range batch {
			res, err := pw.write(l, []*probeReq{r})
			if err != nil {
				r.reply <- probeResult{err: err}
				continue
			}
			r.reply <- res[0]
		}
		return
	}
	for i, r := range batch {
		switch {
		case errors.As(err, &txErr):
			r.reply <- probeResult{err: fmt.Errorf("%s probe of %s: %w", txErr.op, r.p.Target, txErr.err)}
		case err != nil:
			r.reply <- probeResult{err: err}
		default:
			r.reply <- res[i]
		}
	}
}

// txError is a failure of a batch's transaction itself, to begin or to commit: every probe
// of the batch fails with it.
type txError struct {
	op  string
	err error
}

func (e *txError) Error() string { return e.op + ": " + e.err.Error() }

// write writes the probes of a batch in one transaction.
func (pw *probeWriter) write(l *Ledger, batch []*probeReq) ([]probeResult, error) {
	ctx := context.Background() // statements with no context to watch: no goroutine each
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, &txError{op: "recording", err: err}
	}
	defer tx.Rollback()
	st := pw.stmts.in(ctx, tx)
	pw.rowsMu.Lock()
	gen := pw.gen
	pw.rowsMu.Unlock()
	out := make([]probeResult, len(batch))
	rows := make([]targetRow, len(batch))
	for i, r := range batch {
		target := r.p.Target
		pw.rowsMu.Lock()
		row, kept := pw.rows[stateKey{target, r.p.Vantage}]
		pw.rowsMu.Unlock()
		if !kept {
			if row, err = scanState(st.load.QueryRowContext(ctx, target, r.p.Vantage)); err != nil {
				return nil, fmt.Errorf("loading state of %s: %w", target, err)
			}
		}
		row, tr, err := recordProbe(ctx, tx, st, row, r.p, r.pol, r.sc)
		if err != nil {
			return nil, err
		}
		rows[i] = row.stored()
		out[i] = probeResult{st: row.st, tr: tr}
		if err := st.baselineID.QueryRowContext(ctx, target).Scan(&out[i].baseline); err != nil {
			return nil, fmt.Errorf("reading the baseline of %s: %w", target, err)
		}
	}
	if pw.beforeCommit != nil {
		pw.beforeCommit(len(batch))
	}
	if err := tx.Commit(); err != nil {
		// A commit SQLite refused (a busy lock, a deferred constraint) can leave the
		// transaction open on the connection: end it, or no write could begin after it.
		l.w.ExecContext(ctx, `ROLLBACK`)
		return nil, &txError{op: "committing", err: err}
	}
	pw.rowsMu.Lock()
	if pw.gen == gen {
		for i, r := range batch {
			pw.rows[stateKey{r.p.Target, r.p.Vantage}] = rows[i]
		}
	}
	pw.rowsMu.Unlock()
	return out, nil
}

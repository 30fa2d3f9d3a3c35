package report

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/creditwatch/creditwatch/internal/ledger"
)

// Errors of verification.
var (
	ErrDigestMismatch = errors.New("the report's data does not match its digest")
	ErrAltered        = errors.New("the report differs from what its own data renders to")
	ErrNotInLedger    = errors.New("the report is not the version the ledger holds")
)

// VerifyOptions say what to check a report against besides itself.
type VerifyOptions struct {
	// PublicKey is the key the verifier trusts; nil leaves the signature unchecked.
	PublicKey ed25519.PublicKey
	// Frozen, when set, reads the ledger's frozen version of a month: the digest must match
	// it, and a CSV report (which carries no data of its own) is rendered from it.
	Frozen func(month string, version int) (*ledger.FrozenReport, error)
}

// Verification is what verifying a saved report found: all of it holds.
type Verification struct {
	Format           string // html, print, json or csv
	Meta             Meta
	SignatureChecked bool
	LedgerChecked    bool
}

const (
	dataOpen  = `<script type="application/json" id="creditwatch-report-data">`
	metaOpen  = `<script type="application/json" id="creditwatch-report-meta">`
	scriptEnd = `</script>`
	printMark = `data-layout="print"`
	csvTitle  = "\ufeffcreditwatch 月度监测报告,"
)

// Verify checks a saved report: its data matches its digest, every byte of it is what its
// data renders to (so no visible character, chart or table was changed), its signature
// holds under the trusted key, and its digest is the ledger's.
func Verify(file []byte, o VerifyOptions) (*Verification, error) {
	var r *Report
	var v Verification
	var err error
	switch {
	case bytes.HasPrefix(file, []byte(csvTitle)):
		v.Format = "csv"
		r, err = csvReport(file, o)
	case bytes.HasPrefix(bytes.TrimSpace(file), []byte("{")):
		v.Format = "json"
		r, err = jsonReport(file)
	default:
		v.Format = "html"
		if bytes.Contains(file, []byte(printMark)) {
			v.Format = "print"
		}
		r, err = htmlReport(file)
	}
	if err != nil {
		return nil, err
	}
	v.Meta = r.Meta
	if got := Digest(r.Raw); got != r.Meta.Digest {
		return &v, fmt.Errorf("%w: stated %s, computed %s", ErrDigestMismatch, r.Meta.Digest, got)
	}
	if err := r.Data.decodeFrom(r.Raw); err != nil {
		return &v, err
	}
	var again bytes.Buffer
	switch v.Format {
	case "csv":
		err = r.WriteCSV(&again)
	case "json":
		err = r.WriteJSON(&again)
	default:
		err = r.writeHTML(&again, v.Format == "print")
	}
	if err != nil {
		return &v, fmt.Errorf("rendering the report again: %w", err)
	}
	if err := sameBytes(file, again.Bytes()); err != nil {
		if r.Meta.Renderer != "" {
			err = fmt.Errorf("%w (the report was rendered by creditwatch %s)", err, r.Meta.Renderer)
		}
		return &v, err
	}
	if o.PublicKey != nil {
		if err := r.Meta.CheckSignature(o.PublicKey); err != nil {
			return &v, err
		}
		v.SignatureChecked = true
	}
	if o.Frozen != nil {
		fr, err := o.Frozen(r.Meta.Month, r.Meta.Version)
		if err != nil {
			return &v, err
		}
		if fr == nil || fr.Digest != r.Meta.Digest {
			return &v, fmt.Errorf("%w: the ledger holds no version %d of %s with digest %s", ErrNotInLedger, r.Meta.Version, r.Meta.Month, r.Meta.Digest)
		}
		v.LedgerChecked = true
	}
	return &v, nil
}

func (d *Data) decodeFrom(raw []byte) error {
	if err := json.Unmarshal(raw, d); err != nil {
		return fmt.Errorf("reading the embedded data: %w", err)
	}
	return nil
}

// sameBytes compares a file with its rendering, naming the first line that differs.
func sameBytes(file, rendered []byte) error {
	if bytes.Equal(file, rendered) {
		return nil
	}
	a, b := bufio.NewScanner(bytes.NewReader(file)), bufio.NewScanner(bytes.NewReader(rendered))
	a.Buffer(make([]byte, 64<<10), 64<<20)
	b.Buffer(make([]byte, 64<<10), 64<<20)
	for line := 1; ; line++ {
		okA, okB := a.Scan(), b.Scan()
		if !okA && !okB {
			return fmt.Errorf("%w: they differ in their line endings", ErrAltered)
		}
		if !okA || !okB || a.Text() != b.Text() {
			ra, rb := []rune(a.Text()), []rune(b.Text())
			col := 0
			for col < len(ra) && col < len(rb) && ra[col] == rb[col] {
				col++
			}
			return fmt.Errorf("%w: line %d, from character %d, reads\n  %s\nbut should read\n  %s", ErrAltered, line, col+1,
				around(ra, col), around(rb, col))
		}
	}
}

// around shows a line near a column: what a reader needs to find the change.
func around(r []rune, col int) string {
	from, to := max(0, col-40), min(len(r), col+80)
	s := string(r[from:to])
	if from > 0 {
		s = "…" + s
	}
	if to < len(r) {
		s += "…"
	}
	return s
}

func between(s, open string) (string, bool) {
	i := strings.Index(s, open)
	if i < 0 {
		return "", false
	}
	rest := s[i+len(open):]
	j := strings.Index(rest, scriptEnd)
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}

func htmlReport(file []byte) (*Report, error) {
	s := string(file)
	raw, okData := between(s, dataOpen)
	meta, okMeta := between(s, metaOpen)
	if !okData || !okMeta {
		return nil, errors.New("not a creditwatch HTML report: no embedded data or meta")
	}
	r := &Report{Data: &Data{}, Raw: []byte(raw)}
	if err := json.Unmarshal([]byte(meta), &r.Meta); err != nil {
		return nil, fmt.Errorf("reading the embedded meta: %w", err)
	}
	return r, nil
}

func jsonReport(file []byte) (*Report, error) {
	var j struct {
		Meta Meta            `json:"meta"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(file, &j); err != nil || j.Meta.Month == "" {
		return nil, fmt.Errorf("not a creditwatch JSON report: %v", err)
	}
	return &Report{Data: &Data{}, Raw: j.Data, Meta: j.Meta}, nil
}

// csvReport reads a CSV report's month, version and digest, and takes its data from the
// ledger: a CSV file carries none of its own.
func csvReport(file []byte, o VerifyOptions) (*Report, error) {
	head, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(file, []byte("\ufeff")))).Read()
	if err != nil || len(head) < 6 {
		return nil, errors.New("not a creditwatch CSV report")
	}
	month, digest := head[1], head[3]
	version, _ := strconv.Atoi(strings.TrimPrefix(head[4], "封存版本 "))
	if o.Frozen == nil {
		return nil, errors.New("a CSV report carries no data of its own: verify it against the ledger (--ledger)")
	}
	fr, err := o.Frozen(month, version)
	if err != nil {
		return nil, err
	}
	if fr == nil || fr.Digest != digest {
		return nil, fmt.Errorf("%w: the ledger holds no version %d of %s with digest %s", ErrNotInLedger, version, month, digest)
	}
	return fromFrozen(fr, Options{})
}

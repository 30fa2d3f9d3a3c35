package deface

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Baseline is a page as the office accepted it: its title and structure. It is stored as
// JSON in the ledger and replaced when the office accepts a redesign.
type Baseline struct {
	Version int     `json:"version"`
	Title   string  `json:"title"`
	Profile Profile `json:"profile"`
}

// NewBaseline takes a page as its own baseline.
func NewBaseline(p *Page) Baseline {
	return Baseline{Version: 1, Title: p.Title, Profile: ProfileOf(p.Root)}
}

// MarshalBaseline encodes a baseline for the ledger, paths readable (> not escaped).
func MarshalBaseline(b Baseline) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("encoding page baseline: %w", err)
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// UnmarshalBaseline decodes a stored baseline.
func UnmarshalBaseline(data []byte) (Baseline, error) {
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return Baseline{}, fmt.Errorf("decoding page baseline: %w", err)
	}
	if b.Version != 1 {
		return Baseline{}, fmt.Errorf("decoding page baseline: unknown version %d", b.Version)
	}
	return b, nil
}

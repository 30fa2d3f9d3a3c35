package collectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Page is one page of a change stream of the platform API (docs/platform-api.md).
type Page struct {
	Records    []APIRecord `json:"records"`
	NextCursor string      `json:"next_cursor"`
	HasMore    bool        `json:"has_more"`
}

// APIRecord is one record version in a change stream.
type APIRecord struct {
	ID         string            `json:"id"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ReportedAt string            `json:"reported_at"`
	Fields     map[string]string `json:"fields"`
}

// ErrBadPage is wrapped by every error about a page's shape.
var ErrBadPage = errors.New("malformed page")

// BadRecord is a record of a page that cannot be stored, and why.
type BadRecord struct {
	Position int // 0-based in the page
	Reason   string
}

// ParsePage parses a page strictly: unknown top-level keys, a missing cursor or a broken
// document are errors; records without an id or update time are returned as bad records.
func ParsePage(body []byte) (Page, []BadRecord, error) {
	var raw struct {
		Records    []json.RawMessage `json:"records"`
		NextCursor *string           `json:"next_cursor"`
		HasMore    *bool             `json:"has_more"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Page{}, nil, fmt.Errorf("%w: %w", ErrBadPage, err)
	}
	if dec.More() {
		return Page{}, nil, fmt.Errorf("%w: data after the JSON object", ErrBadPage)
	}
	if raw.NextCursor == nil || raw.HasMore == nil || raw.Records == nil {
		return Page{}, nil, fmt.Errorf("%w: records, next_cursor and has_more are required", ErrBadPage)
	}
	p := Page{NextCursor: *raw.NextCursor, HasMore: *raw.HasMore}
	if p.HasMore && p.NextCursor == "" {
		return Page{}, nil, fmt.Errorf("%w: has_more without a next_cursor", ErrBadPage)
	}
	var bad []BadRecord
	for i, rr := range raw.Records {
		var r APIRecord
		if err := json.Unmarshal(rr, &r); err != nil {
			bad = append(bad, BadRecord{Position: i, Reason: err.Error()})
			continue
		}
		switch {
		case r.ID == "":
			bad = append(bad, BadRecord{Position: i, Reason: "no id"})
		case r.UpdatedAt.IsZero():
			bad = append(bad, BadRecord{Position: i, Reason: "no updated_at"})
		case r.Fields == nil:
			bad = append(bad, BadRecord{Position: i, Reason: "no fields"})
		default:
			p.Records = append(p.Records, r)
		}
	}
	return p, bad, nil
}

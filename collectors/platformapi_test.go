package collectors

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePage(t *testing.T) {
	tests := map[string]struct {
		body    string
		records int
		bad     int
		err     string
	}{
		"good":                {body: `{"records":[{"id":"濮环罚〔2026〕1号","updated_at":"2026-11-20T08:00:00Z","reported_at":"2026-11-21","fields":{"行政相对人名称":"甲"}}],"next_cursor":"abc","has_more":false}`, records: 1},
		"empty last page":     {body: `{"records":[],"next_cursor":"abc","has_more":false}`},
		"truncated":           {body: `{"records":[{"id":"1","upd`, err: "unexpected EOF"},
		"not json":            {body: `<html>502 Bad Gateway</html>`, err: "invalid character"},
		"unknown key":         {body: `{"records":[],"next_cursor":"","has_more":false,"total":3}`, err: `unknown field "total"`},
		"missing cursor":      {body: `{"records":[],"has_more":false}`, err: "next_cursor and has_more are required"},
		"more without cursor": {body: `{"records":[],"next_cursor":"","has_more":true}`, err: "has_more without a next_cursor"},
		"trailing data":       {body: `{"records":[],"next_cursor":"a","has_more":false} {}`, err: "data after the JSON object"},
		"bad records": {body: `{"records":[{"updated_at":"2026-11-20T08:00:00Z","fields":{}},{"id":"2","fields":{}},{"id":"3","updated_at":"yesterday","fields":{}},{"id":"4","updated_at":"2026-11-20T08:00:00Z","fields":{"a":"b"}}],"next_cursor":"c","has_more":true}`,
			records: 1, bad: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, bad, err := ParsePage([]byte(tc.body))
			if tc.err != "" {
				if !errors.Is(err, ErrBadPage) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want ErrBadPage with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Records) != tc.records || len(bad) != tc.bad {
				t.Errorf("%d records, %d bad; want %d, %d (%+v)", len(p.Records), len(bad), tc.records, tc.bad, bad)
			}
		})
	}
}

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`{"records":[{"id":"1","updated_at":"2026-11-20T08:00:00Z","fields":{"a":"b"}}],"next_cursor":"x","has_more":true}`))
	f.Add([]byte(`{"records":null,"next_cursor":"","has_more":false}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, _, err := ParsePage(body)
		if err != nil {
			return
		}
		for _, r := range p.Records {
			if r.ID == "" || r.UpdatedAt.IsZero() || r.Fields == nil {
				t.Fatalf("accepted record without id, time or fields: %+v", r)
			}
		}
		if p.HasMore && p.NextCursor == "" {
			t.Fatal("has_more without cursor accepted")
		}
	})
}

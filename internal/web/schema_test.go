package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// A small JSON Schema (2020-12) checker for the API's tests: the keywords the schemas under
// testdata/api use, and no others (an unknown keyword is an error, so that a typo in a
// schema cannot make it accept anything).

type schemaChecker struct {
	root map[string]any
	errs []string
}

var schemaKeywords = map[string]bool{"$schema": true, "title": true, "description": true, "type": true, "properties": true,
	"required": true, "additionalProperties": true, "items": true, "enum": true, "const": true, "minimum": true, "maximum": true,
	"minItems": true, "maxItems": true, "format": true, "pattern": true, "$ref": true, "$defs": true, "oneOf": true}

func loadSchema(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// validate checks a JSON document against a schema and returns what is wrong, nothing when
// it conforms.
func validate(schema map[string]any, doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	c := &schemaChecker{root: schema}
	c.check(schema, v, "$")
	return c.errs
}

func (c *schemaChecker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

func (c *schemaChecker) resolve(ref string) map[string]any {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		return nil
	}
	defs, _ := c.root["$defs"].(map[string]any)
	s, _ := defs[name].(map[string]any)
	return s
}

func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := x.Int64(); err == nil && !strings.ContainsAny(x.String(), ".eE") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func (c *schemaChecker) check(s map[string]any, v any, path string) {
	for k := range s {
		if !schemaKeywords[k] {
			c.fail(path, "the schema uses an unsupported keyword %q", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		target := c.resolve(ref)
		if target == nil {
			c.fail(path, "unresolved $ref %s", ref)
			return
		}
		c.check(target, v, path)
	}
	if alts, ok := s["oneOf"].([]any); ok {
		matched := 0
		for _, a := range alts {
			sub := &schemaChecker{root: c.root}
			sub.check(a.(map[string]any), v, path)
			if len(sub.errs) == 0 {
				matched++
			}
		}
		if matched != 1 {
			c.fail(path, "matches %d of the oneOf alternatives, not exactly one", matched)
		}
	}
	got := typeOf(v)
	if t, ok := s["type"]; ok {
		var allowed []string
		switch x := t.(type) {
		case string:
			allowed = []string{x}
		case []any:
			for _, a := range x {
				allowed = append(allowed, a.(string))
			}
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == got || a == "number" && got == "integer"
		}
		if !ok {
			c.fail(path, "is %s, want %v", got, allowed)
			return
		}
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || reflect.DeepEqual(plain(x), plain(v))
		}
		if !found {
			c.fail(path, "%v is not one of %v", v, e)
		}
	}
	if x, ok := s["const"]; ok && !reflect.DeepEqual(plain(x), plain(v)) {
		c.fail(path, "%v is not %v", v, x)
	}
	switch got {
	case "integer", "number":
		n, _ := v.(json.Number).Float64()
		if m, ok := s["minimum"].(float64); ok && n < m {
			c.fail(path, "%v is below the minimum %v", n, m)
		}
		if m, ok := s["maximum"].(float64); ok && n > m {
			c.fail(path, "%v is above the maximum %v", n, m)
		}
	case "string":
		str := v.(string)
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				c.fail(path, "%q is not an RFC 3339 time", str)
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, str); err != nil {
				c.fail(path, "%q is not a YYYY-MM-DD date", str)
			}
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			c.fail(path, "%q does not match %s", str, p)
		}
	case "array":
		arr := v.([]any)
		if m, ok := s["minItems"].(float64); ok && float64(len(arr)) < m {
			c.fail(path, "has %d items, fewer than %v", len(arr), m)
		}
		if m, ok := s["maxItems"].(float64); ok && float64(len(arr)) > m {
			c.fail(path, "has %d items, more than %v", len(arr), m)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, x := range arr {
				c.check(items, x, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case "object":
		obj := v.(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := obj[r.(string)]; !ok {
					c.fail(path, "lacks the required %q", r)
				}
			}
		}
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := props[k].(map[string]any); ok {
				c.check(p, obj[k], path+"."+k)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					c.fail(path, "has %q, which the schema does not allow", k)
				}
			case map[string]any:
				c.check(ap, obj[k], path+"."+k)
			}
		}
	}
}

// plain turns json.Number into float64 so that values compare alike.
func plain(v any) any {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

// The checker fails what it should: otherwise the API tests prove nothing.
func TestSchemaCheckerRejects(t *testing.T) {
	schema := loadSchema(t, "testdata/api/incidents.schema.json")
	good := `{"generated_at":"2026-11-27T09:00:00+08:00","from":"2026-01-01T00:00:00+08:00","to":"2026-11-27T09:00:00+08:00","incidents":[]}`
	if errs := validate(schema, []byte(good)); len(errs) > 0 {
		t.Fatalf("a good document fails: %v", errs)
	}
	for name, doc := range map[string]string{
		"missing field":   `{"generated_at":"2026-11-27T09:00:00+08:00","from":"2026-01-01T00:00:00+08:00","incidents":[]}`,
		"extra field":     strings.Replace(good, `"incidents":[]`, `"incidents":[],"x":1`, 1),
		"wrong type":      strings.Replace(good, `"incidents":[]`, `"incidents":{}`, 1),
		"bad time":        strings.Replace(good, `2026-11-27T09:00:00+08:00","from"`, `2026-11-27 09:00","from"`, 1),
		"bad enum":        strings.Replace(good, `"incidents":[]`, `"incidents":[{"id":1,"target":"a","site":"portal","scored":true,"vantage":"v","start":"2026-11-27T09:00:00+08:00","confirmed_at":"2026-11-27T09:00:00+08:00","end":null,"end_cause":"gone","open":true,"seconds":1,"outcome":"timeout","outcome_text":"超时","first_error":"","failed_probes":2,"voided":false,"annotations":[],"page":"/incidents/1"}]`, 1),
		"integer wanted":  strings.Replace(good, `"incidents":[]`, `"incidents":[{"id":1.5,"target":"a","site":"portal","scored":true,"vantage":"v","start":"2026-11-27T09:00:00+08:00","confirmed_at":"2026-11-27T09:00:00+08:00","end":null,"end_cause":"","open":true,"seconds":1,"outcome":"timeout","outcome_text":"超时","first_error":"","failed_probes":2,"voided":false,"annotations":[],"page":"/incidents/1"}]`, 1),
		"pattern":         strings.Replace(good, `"incidents":[]`, `"incidents":[{"id":1,"target":"a","site":"portal","scored":true,"vantage":"v","start":"2026-11-27T09:00:00+08:00","confirmed_at":"2026-11-27T09:00:00+08:00","end":null,"end_cause":"","open":true,"seconds":1,"outcome":"timeout","outcome_text":"超时","first_error":"","failed_probes":2,"voided":false,"annotations":[],"page":"http://x/"}]`, 1),
		"not JSON at all": `{"generated_at":`,
	} {
		if errs := validate(schema, []byte(doc)); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
	if errs := validate(map[string]any{"typ": "object"}, []byte(`{}`)); len(errs) == 0 {
		t.Error("a schema with an unknown keyword is accepted")
	}
}

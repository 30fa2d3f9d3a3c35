package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The document is checked against the Config type before it is decoded, so that every
// unknown key and every value of the wrong shape is reported at once, by its path and in
// the words of the file (unknown key body_contain (did you mean body_contains?); status
// must be a list, e.g. [200]), never in Go's (field … not found in type config.Expect).

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkShape walks a YAML node alongside the Go type it decodes into.
func (p *problems) checkShape(n *yaml.Node, t reflect.Type, path []any) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isNull(n) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return // an empty value keeps the default; custom types say what is wrong themselves
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.addUnreadable(n.Line, path, "must be a mapping of keys (key: value on lines of their own, or {key: value})")
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue // a merge key: its keys are checked where they are defined
			}
			f, ok := fields[k.Value]
			if !ok {
				msg := fmt.Sprintf("unknown key %s", k.Value)
				if s := suggest(k.Value, fields); s != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", s)
				}
				p.addUnreadable(k.Line, path, "%s", msg)
				continue
			}
			p.checkShape(v, f.Type, append(append([]any{}, path...), k.Value))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			example := "[…]"
			if n.Kind == yaml.ScalarNode {
				example = "[" + n.Value + "]"
			}
			p.addUnreadable(n.Line, path, "must be a list, e.g. %s", example)
			return
		}
		for i, e := range n.Content {
			p.checkShape(e, t.Elem(), append(append([]any{}, path...), i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.addUnreadable(n.Line, path, "must be a mapping of keys")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.checkShape(n.Content[i+1], t.Elem(), append(append([]any{}, path...), n.Content[i].Value))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			p.addUnreadable(n.Line, path, "must be a whole number, got %s", shown(n))
		}
	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			p.addUnreadable(n.Line, path, "must be a number, got %s", shown(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			p.addUnreadable(n.Line, path, "must be true or false, got %s", shown(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			p.addUnreadable(n.Line, path, "must be text, not a %s", kindName(n))
		}
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// shown is a value as the file has it, quoted; or what kind of value it is.
func shown(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// yamlFields maps a struct's YAML keys to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

// suggest is the known key closest to an unknown one, if it is close enough to be a typo.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", -1
	for _, k := range names {
		if d := editDistance(strings.ToLower(key), k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(1, len([]rune(best))/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between two strings, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

// addAt records a problem at a line of the file.
func (p *problems) addAt(line int, path []any, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if key := formatPath(path); key != "" {
		msg = key + ": " + msg
	}
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	p.errs = append(p.errs, lineError{line: line, msg: msg})
}

// lineError is a problem of the file, sortable by its line.
type lineError struct {
	line int
	msg  string
}

func (e lineError) Error() string { return e.msg }

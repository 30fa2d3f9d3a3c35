package config

import "github.com/creditwatch/creditwatch/internal/strictyaml"

// DecodeStrict decodes the first YAML document of data into v, unknown keys being errors
// and yaml.v3's panics on malformed documents being errors too.
func DecodeStrict(data []byte, v any) error { return strictyaml.Decode(data, v) }

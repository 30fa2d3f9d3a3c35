// Package strictyaml decodes YAML documents strictly: unknown keys are errors, and the
// malformed documents on which yaml.v3 panics are errors too, never a crash.
package strictyaml

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Decode decodes the first YAML document of data into v, unknown keys being errors.
// yaml.v3 panics on some malformed documents (a merge key whose value is used as a mapping
// key, found by fuzzing): that is an error here, not a crash of a running service on reload.
func Decode(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML cannot be decoded: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

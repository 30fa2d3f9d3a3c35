package creditreport

import (
	_ "embed"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// Edition is one edition of the national report standard: the sections a report must
// show, in order, and the note it must carry.
type Edition struct {
	Name        string   `yaml:"-" json:"name"`
	Title       string   `yaml:"title" json:"title"`
	Sections    []string `yaml:"sections" json:"sections"`
	Note        string   `yaml:"note" json:"note"`
	Provisional bool     `yaml:"provisional" json:"provisional,omitempty"`
}

//go:embed editions.yml
var editionsYAML []byte

var editions = mustEditions(editionsYAML)

func mustEditions(data []byte) map[string]Edition {
	var m map[string]Edition
	if err := yaml.Unmarshal(data, &m); err != nil {
		panic(fmt.Sprintf("creditreport: editions.yml: %v", err))
	}
	for name, e := range m {
		if len(e.Sections) == 0 || e.Note == "" {
			panic(fmt.Sprintf("creditreport: editions.yml: edition %s has no sections or note", name))
		}
		e.Name = name
		m[name] = e
	}
	return m
}

// DefaultEdition is the edition checked when the config names none.
const DefaultEdition = "2022"

// Editions lists the known editions' names, sorted.
func Editions() []string {
	var names []string
	for n := range editions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// EditionByName returns a known edition.
func EditionByName(name string) (Edition, error) {
	e, ok := editions[name]
	if !ok {
		return Edition{}, fmt.Errorf("unknown credit report edition %q (known: %v)", name, Editions())
	}
	e.Sections = slices.Clone(e.Sections)
	return e, nil
}

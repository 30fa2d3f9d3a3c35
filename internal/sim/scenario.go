// Package sim is a simulated credit platform: a realistic Chinese credit portal that
// misbehaves on a script. It is a test double for tests and the demo, never part of the
// monitored path.
//
// URLs: / is the portal's home page, misbehaving by the scenario's faults or sequence,
// which include the content faults (deface_keyword, deface_script, deface_iframe,
// deface_link, deface_hidden_link, deface_title, deface_page, redesign);
// /-/sim/pages/KIND serves any content fault's page directly. /xydt/ is a news list whose
// items change every day, /sgs/ a double-publicity list whose newest item is
// lists.stale_days old (default 45). /report?code=CODE[&format=html|pdf][&defect=KIND]
// is the enterprise credit report of a code. /api/v1/... is the data API
// (docs/platform-api.md); /-/sim/stats and /-/sim/platform/truth tell what was served.
//
// Credit reports: the scenario's reports: section lists defective codes
// (defects: {CODE: KIND}); any other code is defective when a number drawn from the code
// alone falls under defect_ratio (default 0), with a content defect drawn from the same
// number, so a code always gets the same report. The name on a report is the name of the
// code's records on the simulated platform, or one made from the code. PDFs are written by
// a small writer in the standard, unembedded Chinese font STSong-Light (UniGB-UCS2-H), as
// iText-based report systems write them: no font in the binary, any code printable, the
// same bytes for the same content. Reading them with poppler needs poppler-data.
package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/strictyaml"
)

// Fault kinds the portal can show.
const (
	FaultOK           = "ok"
	FaultDown         = "down"          // connection refused (time faults) or reset (sequence)
	FaultStatus       = "status"        // an HTTP error status, 503 unless status is set
	FaultSlow         = "slow"          // answer after delay
	FaultHang         = "hang"          // never answer
	FaultChallenge412 = "challenge_412" // a WAF's HTTP 412
	FaultChallengeJS  = "challenge_js"  // a WAF's JavaScript challenge page, HTTP 200
	FaultWrongContent = "wrong_content" // a maintenance page without the expected text
	FaultGBK          = "gbk"           // the normal page, GBK-encoded
)

var kinds = func() map[string]bool {
	m := map[string]bool{FaultOK: true, FaultDown: true, FaultStatus: true, FaultSlow: true, FaultHang: true,
		FaultChallenge412: true, FaultChallengeJS: true, FaultWrongContent: true, FaultGBK: true}
	for _, k := range ContentFaults {
		m[k] = true
	}
	return m
}()

// Scenario is a script of faults.
type Scenario struct {
	// Faults happen at times relative to the simulator's start.
	Faults []TimedFault `yaml:"faults"`
	// Repeat restarts the timed faults every so often; 0 plays them once.
	Repeat Duration `yaml:"repeat"`
	// Sequence, when set, scripts the portal page by request number instead; after its
	// last step the page is normal.
	Sequence []Step `yaml:"sequence"`
	// Platform configures the data API (docs/platform-api.md).
	Platform PlatformScenario `yaml:"platform"`
	// Reports scripts the credit reports served at /report?code=.
	Reports ReportScenario `yaml:"reports"`
	// Lists configures the list pages /xydt/ and /sgs/.
	Lists ListScenario `yaml:"lists"`
}

// Fault is one kind of misbehaviour.
type Fault struct {
	Kind   string   `yaml:"kind"`
	Status int      `yaml:"status"`
	Delay  Duration `yaml:"delay"`
}

// TimedFault is a fault during [At, At+For).
type TimedFault struct {
	Fault `yaml:",inline"`
	At    Duration `yaml:"at"`
	For   Duration `yaml:"for"`
}

// Step is a fault for Count consecutive requests.
type Step struct {
	Fault `yaml:",inline"`
	Count int `yaml:"count"`
}

// Duration is a YAML duration such as 30s, as in creditwatch's config.
type Duration = config.Duration

// LoadScenario reads a scenario file strictly.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	sc, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// ParseScenario parses and validates a scenario document.
func ParseScenario(data []byte) (*Scenario, error) {
	sc := &Scenario{}
	if err := strictyaml.Decode(data, sc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	for i, f := range sc.Faults {
		if err := f.validate(); err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		if f.For <= 0 {
			return nil, fmt.Errorf("faults[%d]: for must be positive", i)
		}
		if sc.Repeat > 0 && f.At+f.For > sc.Repeat {
			return nil, fmt.Errorf("faults[%d]: ends after the repeat period %s", i, time.Duration(sc.Repeat))
		}
	}
	if err := sc.Reports.validate(); err != nil {
		return nil, err
	}
	for i, s := range sc.Sequence {
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("sequence[%d]: %w", i, err)
		}
		if s.Count < 1 {
			return nil, fmt.Errorf("sequence[%d]: count must be at least 1", i)
		}
	}
	return sc, nil
}

func (f Fault) validate() error {
	if !kinds[f.Kind] {
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("%d is not an HTTP status", f.Status)
	}
	return nil
}

// At returns the fault in force at elapsed time since start.
func (s *Scenario) At(elapsed time.Duration) Fault {
	if s.Repeat > 0 {
		elapsed %= time.Duration(s.Repeat)
	}
	for _, f := range s.Faults {
		if elapsed >= time.Duration(f.At) && elapsed < time.Duration(f.At+f.For) {
			return f.Fault
		}
	}
	return Fault{Kind: FaultOK}
}

// Nth returns the scripted fault of the n-th portal request (0-based).
func (s *Scenario) Nth(n int) Fault {
	for _, st := range s.Sequence {
		if n < st.Count {
			return st.Fault
		}
		n -= st.Count
	}
	return Fault{Kind: FaultOK}
}

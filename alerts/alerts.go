// Package alerts ships creditwatch's Prometheus rules (creditwatch.rules.yml) and their
// unit tests (tests/); this Go package only embeds the rule file for the deployment bundle.
package alerts

import _ "embed"

// Rules is creditwatch.rules.yml.
//
//go:embed creditwatch.rules.yml
var Rules []byte

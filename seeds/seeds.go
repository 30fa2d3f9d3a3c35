// Package seeds embeds the indicator catalogue derived from the source ledger and the
// source ledger itself, so that the binary carries both.
package seeds

import _ "embed"

// Catalogue is catalogue.yaml: every row of the source ledger with its scoring rule.
//
//go:embed catalogue.yaml
var Catalogue []byte

// SourceLedger is the user's source document the catalogue was derived from.
//
//go:embed 000_19d7038cb2c13d2d.txt
var SourceLedger []byte

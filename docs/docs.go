// Package docs embeds the documents creditwatch serves itself: the runbooks the alerts link
// to are reachable from the city's own network, wherever the repository is hosted.
package docs

import _ "embed"

// Runbooks is runbooks.md: one section per alert, headed by the alert's name.
//
//go:embed runbooks.md
var Runbooks []byte

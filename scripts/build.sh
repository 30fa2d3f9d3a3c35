#!/usr/bin/env bash
# Builds the creditwatch binary exactly as the tests and the Dockerfile use it: static
# (no cgo; the SQLite driver is pure Go), trimmed paths, version stamped.
#   scripts/build.sh OUTPUT
set -euo pipefail
out=${1:?usage: scripts/build.sh OUTPUT}
cd "$(dirname "$0")/.."
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
pkg=github.com/prometheus/common/version
CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X $pkg.Version=$version -X $pkg.Revision=$revision -X $pkg.Branch=main" \
  -o "$out" ./cmd/creditwatch

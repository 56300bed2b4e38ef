#!/usr/bin/env bash
# The HTTP benchmark, kept under its old name for `make bench-http`: it now
# runs bench/cmd/bench (the bench module), which builds and measures the
# handler, the bare net/http ceiling, the Go peer and the Node.js peer in
# interleaved rounds, and writes its report under bench/out/ (-update-docs,
# as make bench-docs passes, writes docs/benchmarks.md). Settings come from
# ROUNDS, DURATION, OPEN_DURATION, CONNS, RATE, COLD_STARTS and
# HANDLER_TAGS, or from the flags (go run ./cmd/bench -h). Loopback only.
set -euo pipefail
cd "$(dirname "$0")"
exec go run ./cmd/bench "$@"

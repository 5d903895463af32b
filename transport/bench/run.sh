#!/usr/bin/env bash
# Runs the transport benchmark suite (brine beside zmq4) and prints its
# table "figure | brine | zmq4 | ratio" and whether the goals are met.
# `make bench` calls it. About three minutes on a 2-core machine with the
# defaults (BENCHTIME=1s COUNT=3); COUNT=1 takes about one.
#
#   BENCHTIME  -benchtime of every benchmark (default 1s)
#   BENCH      -bench pattern (default ., the whole suite)
#   COUNT      -count (default 3; the table shows the medians)
#   OUT        where the raw `go test` output is kept (default: a temp file)
#
# Any other arguments go to `go test` (e.g. -cpuprofile cpu.out).
set -euo pipefail
cd "$(dirname "$0")/../.."

go=${GO:-go}
out=${OUT:-$(mktemp -t brine-bench.XXXXXX)}
"$go" test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1s}" \
  -count "${COUNT:-3}" -timeout 30m "$@" ./transport/bench/ | tee "$out"
echo
"$go" run ./transport/bench/internal/benchtable < "$out"
[ -n "${OUT:-}" ] || rm -f "$out"

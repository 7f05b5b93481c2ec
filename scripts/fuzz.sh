#!/usr/bin/env bash
# Runs every fuzzer of the repository for a short time each, beyond its committed seeds (which a
# plain `go test` replays). Fuzzers are found by name in the tracked test files, so a new one is
# picked up without editing this file. One at a time, one worker each: the machine is shared.
#
#   scripts/fuzz.sh            # 2000 executions per fuzzer (what make test runs)
#   scripts/fuzz.sh 10m        # longer runs, as recorded in docs/security.md
#   GATEWAY_FUZZTIME=0 make test   # skips them
#
# make test counts executions rather than time: with a duration, Go's fuzzing coordinator (up to
# go1.26; golang/go#75804, fixed in 1.27) may report a bare "context deadline exceeded" failure when
# the time runs out while a worker is busy, which a loaded machine makes likely. A real finding
# always writes its input under testdata/fuzz/; a bare deadline report without one is said, not
# counted as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-${GATEWAY_FUZZTIME:-2000x}}
[[ "$fuzztime" == "0" ]] && exit 0
status=0
while IFS=: read -r file name; do
	pkg="./$(dirname "$file")"
	echo "fuzz: $name in $pkg for $fuzztime"
	if ! out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 1 "$pkg" 2>&1); then
		if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q -E 'Failing input written|panic:' <<<"$out"; then
			echo "fuzz: $name: the run ended on Go's fuzztime deadline race (golang/go#75804); no failing input, not a finding"
			continue
		fi
		echo "$out" >&2
		echo "fuzz: $name in $pkg failed (the failing input is under $pkg/testdata/fuzz/$name)" >&2
		status=1
	fi
done < <(git grep -o -E '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/:func /:/')
exit "$status"

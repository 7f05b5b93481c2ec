#!/usr/bin/env bash
# Runs every fuzzer of the repository for a short time each, beyond its committed seeds (which a
# plain `go test` replays). Fuzzers are found by name in the tracked test files, so a new one is
# picked up without editing this file. One at a time, one worker each: the machine is shared.
#
#   scripts/fuzz.sh            # 2s per fuzzer (what make test runs: about 90s for the 18 fuzzers)
#   scripts/fuzz.sh 10m        # longer runs, as recorded in docs/security.md
#   GATEWAY_FUZZTIME=0 make test   # skips them
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-${GATEWAY_FUZZTIME:-2s}}
[[ "$fuzztime" == "0" ]] && exit 0
status=0
while IFS=: read -r file name; do
	pkg="./$(dirname "$file")"
	echo "fuzz: $name in $pkg for $fuzztime"
	if ! out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 1 "$pkg" 2>&1); then
		echo "$out" >&2
		echo "fuzz: $name in $pkg failed (the failing input is under $pkg/testdata/fuzz/$name)" >&2
		status=1
	fi
done < <(git grep -o -E '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/:func /:/')
exit "$status"

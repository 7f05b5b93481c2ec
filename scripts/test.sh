#!/usr/bin/env bash
# Runs every test of the repository, including those against a real Redis.
# Redis: GATEWAY_TEST_REDIS_URL when set; else the one on 127.0.0.1:6379 when it answers; else a
# throwaway redis-server on a free loopback port, stopped when the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/redis.sh
source scripts/redis.sh
ensure_redis GATEWAY_TEST_REDIS_URL
echo "test: Redis for the tests: ${GATEWAY_TEST_REDIS_URL}"

# Prometheus and promtool (Debian's prometheus package) for the observability tests: the live
# check starts a real Prometheus, and promtool checks the configuration, rules and metrics. When
# they are missing, install them as root with apt-get; otherwise say how (the tests then fail
# with the same instructions rather than skip).
have_prometheus() {
	for p in prometheus promtool; do
		command -v "$p" >/dev/null || [[ -x "/usr/bin/$p" ]] || return 1
	done
}
if ! have_prometheus; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "test: installing Debian's prometheus package (prometheus and promtool)"
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; then
			echo "test: installing the prometheus package failed; the observability tests will fail." >&2
		fi
	else
		echo "test: prometheus and promtool are not installed; the observability tests will fail." >&2
		echo "      Install them with: sudo apt-get install -y --no-install-recommends prometheus" >&2
	fi
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
	echo "test: gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
# The live check (internal/observability) writes what it proved here; it is printed at the end.
report=$(mktemp)
export GATEWAY_LIVECHECK_REPORT="$report"
status=0
# One package at a time: the fault runs (cmd/loadgen), the crash test (internal/app) and the live
# check start real processes and wait on real clocks; on a 2-core machine running them side by side
# only makes them slower and their waits tighter, for little gain in total time.
go test -p 1 -count=1 -timeout 15m "$@" ./... || status=$?
# Every fuzzer also runs briefly beyond its seeds (GATEWAY_FUZZTIME each, 2000 executions by default; 0 skips).
scripts/fuzz.sh || status=$?
if [[ -s "$report" ]]; then
	echo "test: the observability live check proved:"
	cat "$report"
fi
rm -f "$report"
exit "$status"

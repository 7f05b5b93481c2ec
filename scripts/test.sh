#!/usr/bin/env bash
# Runs every test of the repository, including those against a real Redis.
# Redis: GATEWAY_TEST_REDIS_URL when set; else the one on 127.0.0.1:6379 when it answers; else a
# throwaway redis-server on a free loopback port, stopped when the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."

redis_answers() { # host port
	(exec 3<>"/dev/tcp/$1/$2" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null
}

if [[ -z "${GATEWAY_TEST_REDIS_URL:-}" ]]; then
	if redis_answers 127.0.0.1 6379; then
		export GATEWAY_TEST_REDIS_URL="redis://127.0.0.1:6379/0"
	else
		if ! command -v redis-server >/dev/null; then
			echo "test: no Redis answers on 127.0.0.1:6379 and redis-server is not installed." >&2
			echo "      Install it (Debian/Ubuntu: apt-get install -y redis-server) or set GATEWAY_TEST_REDIS_URL." >&2
			exit 1
		fi
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 16379)
		dir=$(mktemp -d)
		redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" --daemonize no >"$dir/redis.log" 2>&1 &
		redis_pid=$!
		trap 'kill $redis_pid 2>/dev/null; rm -rf "$dir"' EXIT
		for _ in $(seq 1 50); do redis_answers 127.0.0.1 "$port" && break; sleep 0.1; done
		redis_answers 127.0.0.1 "$port" || { echo "test: the throwaway redis-server did not start:" >&2; cat "$dir/redis.log" >&2; exit 1; }
		export GATEWAY_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
		echo "test: started a throwaway redis-server on 127.0.0.1:$port"
	fi
fi
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
if [[ -s "$report" ]]; then
	echo "test: the observability live check proved:"
	cat "$report"
fi
rm -f "$report"
exit "$status"

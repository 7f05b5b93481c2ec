#!/usr/bin/env bash
# Runs the benchmarks: the Go micro-benchmarks of the hot paths, then the cmd/loadgen scenarios,
# each beside its baseline measured in the same run. Every RESULT line and benchmark line goes to
# bench-results/<UTC timestamp>.txt (and to the terminal), with the machine's figures at the top;
# BENCHMARKS.md says how to read them.
# Redis: GATEWAY_BENCH_REDIS_URL when set; else 127.0.0.1:6379 when it answers; else a throwaway
# redis-server. BENCH_SHORT=1 makes every run short (a smoke run of the harness, not figures).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/redis.sh
source scripts/redis.sh
ensure_redis GATEWAY_BENCH_REDIS_URL
redis=$GATEWAY_BENCH_REDIS_URL

mkdir -p bench-results
out="bench-results/$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc: $(nproc)"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "go: $(go version)"
	echo "redis: $redis ($(redis-cli -u "$redis" info server 2>/dev/null | tr -d '\r' | awk -F: '/^redis_version/ {print $2}'))"
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} | tee "$out"

if [[ "${BENCH_SHORT:-}" == 1 ]]; then
	benchtime=100ms duration=1s warmup=200ms events=500 open_events=200 rate=400
else
	benchtime=2s duration=10s warmup=2s events=20000 open_events=8000 rate=400
fi

# The load generator is built once, from the tree as it is now: every scenario runs the same
# binary (go run would rebuild it before each, from whatever the tree holds by then). The
# commands print as "loadgen ..."; "loadgen ..." is the same run.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/loadgen" ./cmd/loadgen
loadgen() { "$bin/loadgen" "$@"; }

run() { # title, command...
	echo "== $1" | tee -a "$out"
	shift
	echo "\$ $*" | tee -a "$out"
	"$@" 2>&1 | tee -a "$out"
}

export GATEWAY_TEST_REDIS_URL=$redis
run "micro-benchmarks" go test -run '^$' -bench . -benchmem -benchtime "$benchtime" -count 1 \
	./internal/events ./internal/payments ./internal/evidence ./internal/partnerhttp ./internal/store ./connectors/...
run "ingest: POST /v1/events against bare HTTP + XADD" \
	loadgen -scenario ingest -redis "$redis" -duration "$duration" -warmup "$warmup" -concurrency 64
run "ingest: an API-only gateway (role api: no consumers in the process), like for like with the baseline" \
	loadgen -scenario ingest -redis "$redis" -duration "$duration" -warmup "$warmup" -concurrency 64 -role api
if loadgen -scenario ipn -h 2>&1 | grep -q -- -redis; then
	run "ipn: VNPay IPN verify and commit against a bare handler with one Redis round trip" \
		loadgen -scenario ipn -redis "$redis" -duration "$duration" -warmup "$warmup"
	run "ipn: an API-only gateway (role api), like for like with the baseline" \
		loadgen -scenario ipn -redis "$redis" -duration "$duration" -warmup "$warmup" -role api
fi
run "sync: one consumer with one message in flight against one sequential pipeline worker" \
	loadgen -scenario sync -redis "$redis" -events "$events" -consumers 1 -in-flight 1
for c in 1 2 4; do
	run "sync: dossier sync end to end, $c consumers, 1 replica" \
		loadgen -scenario sync -redis "$redis" -events "$events" -consumers "$c"
done
for c in 1 2 4; do
	run "sync: latency at a fixed $rate events/s (open loop), $c consumers" \
		loadgen -scenario sync -redis "$redis" -events "$open_events" -consumers "$c" -rate "$rate"
done
run "sync: 3 replicas on one Redis, 4 consumers each" \
	loadgen -scenario sync -redis "$redis" -events "$events" -consumers 4 -replicas 3
run "sync: drain of a parked backlog after the portal comes back" \
	loadgen -scenario sync -redis "$redis" -events "$((events * 5))" -backlog
run "postal: delivery requests to MyVNPost orders end to end, 4 consumers" \
	loadgen -scenario postal -redis "$redis" -events "$events"
run "postal: latency at a fixed $rate requests/s (open loop)" \
	loadgen -scenario postal -redis "$redis" -events "$open_events" -rate "$rate"
run "mixed: status changes, IPNs and delivery requests interleaved (17:2:1), closed loop" \
	loadgen -scenario mixed -redis "$redis" -events "$events"
run "mixed: latency by kind at a fixed $rate requests/s (open loop)" \
	loadgen -scenario mixed -redis "$redis" -events "$open_events" -rate "$rate"
echo "bench: results in $out"
grep '^RESULT' "$out" | cut -c1-200

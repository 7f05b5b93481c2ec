# The two commands a newcomer needs: `go run ./cmd/gateway` runs the gateway; `make test` runs
# every test (starting a throwaway redis-server when none listens on 127.0.0.1:6379).
.PHONY: test run build race bench

test:
	./scripts/test.sh

# bench runs the micro-benchmarks and every loadgen scenario beside its baseline (see BENCHMARKS.md).
bench:
	./scripts/bench.sh

race:
	./scripts/test.sh -race

run:
	go run ./cmd/gateway

build:
	go build -o bin/ ./cmd/...

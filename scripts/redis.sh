# Sourced by scripts/test.sh and scripts/bench.sh: finds the Redis they run against.
# ensure_redis VAR: when $VAR is empty, use the Redis on 127.0.0.1:6379 if it answers, else start a
# throwaway redis-server on a free loopback port (stopped when the calling script exits), and
# export VAR=redis://127.0.0.1:PORT/0. Fails with instructions when neither is possible.

redis_answers() { # host port
	(exec 3<>"/dev/tcp/$1/$2" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null
}

ensure_redis() { # VAR
	local var=$1
	if [[ -n "${!var:-}" ]]; then
		return 0
	fi
	if redis_answers 127.0.0.1 6379; then
		export "$var=redis://127.0.0.1:6379/0"
		return 0
	fi
	if ! command -v redis-server >/dev/null; then
		echo "$(basename "$0"): no Redis answers on 127.0.0.1:6379 and redis-server is not installed." >&2
		echo "      Install it (Debian/Ubuntu: apt-get install -y redis-server) or set $var." >&2
		exit 1
	fi
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 16379)
	redis_dir=$(mktemp -d)
	redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$redis_dir" --daemonize no >"$redis_dir/redis.log" 2>&1 &
	redis_pid=$!
	trap 'kill $redis_pid 2>/dev/null; rm -rf "$redis_dir"' EXIT
	for _ in $(seq 1 50); do redis_answers 127.0.0.1 "$port" && break; sleep 0.1; done
	if ! redis_answers 127.0.0.1 "$port"; then
		echo "$(basename "$0"): the throwaway redis-server did not start:" >&2
		cat "$redis_dir/redis.log" >&2
		exit 1
	fi
	export "$var=redis://127.0.0.1:$port/0"
	echo "$(basename "$0"): started a throwaway redis-server on 127.0.0.1:$port"
}

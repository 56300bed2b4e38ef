#!/usr/bin/env bash
# HTTP-level benchmark: the authenticated Hello of the real handler (dev
# mode, with and without the verified-token cache) against a bare net/http
# server, with wrk, interleaved in rounds so that machine noise hits all
# alike. Prints each round and the median ratio to bare. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}

if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null
	else
		echo "bench-http needs wrk (apt-get install wrk)" >&2
		exit 1
	fi
fi

out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/handler" ./cmd/handler
CGO_ENABLED=0 go build -o "$out/bare" ./bench/bare

export AUTH_MODE=dev AUTH_DEV_KEY_FILE="$out/dev-key.pem"
PORT=7401 "$out/bare" &
FUNCTIONS_CUSTOMHANDLER_PORT=7402 "$out/handler" >/dev/null &
FUNCTIONS_CUSTOMHANDLER_PORT=7403 AUTH_TOKEN_CACHE_SIZE=0 "$out/handler" >/dev/null &
token=$("$out/handler" token --name Marc)
for port in 7401 7402 7403; do
	for _ in $(seq 100); do curl -fs -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/Hello?name=Marc" && break; sleep 0.05; done
done

rps() {
	wrk -t2 -c"$CONNS" -d"$DURATION" -H "Authorization: Bearer $token" "http://127.0.0.1:$1/api/Hello?name=Marc" |
		awk '/Requests\/sec/ {print $2}'
}
printf '%-6s %12s %12s %12s %8s %8s\n' round bare cached uncached cached/bare uncached/bare
ratios=()
for round in $(seq "$ROUNDS"); do
	b=$(rps 7401); c=$(rps 7402); u=$(rps 7403)
	rc=$(awk -v c="$c" -v b="$b" 'BEGIN {printf "%.2f", c/b}')
	ru=$(awk -v u="$u" -v b="$b" 'BEGIN {printf "%.2f", u/b}')
	printf '%-6s %12s %12s %12s %8s %8s\n' "$round" "$b" "$c" "$u" "$rc" "$ru"
	ratios+=("$rc")
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median cached/bare: $median (wrk -t2 -c$CONNS -d$DURATION, $ROUNDS rounds)"

#!/usr/bin/env bash
# `make bench`: release build of herald-bench, the C reference programs against the same C
# libraries, the servers if they are not running; then every benchmark prints its ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/deploy/dev/common.sh"
cd "$root"

refs=Benchmarks/reference/bin
mkdir -p "$refs"
cc -O2 -o "$refs/amqp_reference" Benchmarks/reference/amqp_reference.c $(pkg-config --cflags --libs librabbitmq)
cc -O2 -o "$refs/mongo_reference" Benchmarks/reference/mongo_reference.c $(pkg-config --cflags --libs libmongoc-1.0)
# Jinja2, the template benchmark's reference, pinned in the stack's virtualenv.
"$NX_VENV/bin/python" -c "import jinja2" 2>/dev/null || "$NX_VENV/bin/pip" install -q "jinja2==3.1.6"
swift build -c release --product herald-bench
swift build -c release --product tracker          # the tracker benchmark runs the real executable
swift build -c release --product mta-sender       # so does the sender benchmark
# wrk and nginx for the tracker benchmark (Debian packages; only `make bench` needs them).
for p in wrk nginx-light; do dpkg -s "$p" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p" >/dev/null; done

started=()
cleanup() { for s in "${started[@]}"; do bash deploy/dev/stack.sh stop "$s" || true; done; }
trap cleanup EXIT
for s in "mongo-settings:$MONGO_SETTINGS_PORT" "mongo-customers:$MONGO_CUSTOMERS_PORT" "rabbitmq:$AMQP_PORT"; do
  if ! port_open "${s#*:}"; then bash deploy/dev/stack.sh start "${s%%:*}"; started+=("${s%%:*}"); fi
done

HERALD_BENCH_REFERENCES=$refs HERALD_BENCH_BIN="$(swift build -c release --show-bin-path)" "$(swift build -c release --show-bin-path)/herald-bench" "$@"

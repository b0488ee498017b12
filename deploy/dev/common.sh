# Shared settings of the development stack scripts. Every value can be overridden from
# the environment; the defaults follow docs/ports.md.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${STACK_DIR:=$repo_root/.stack}"                 # git-ignored: data, logs, pid files
: "${NX_VERSION:=0.8.1}"
: "${NX_VENV:=$STACK_DIR/venv}"
: "${MONGO_SETTINGS_PORT:=27051}"
: "${MONGO_CUSTOMERS_PORT:=27052}"
: "${AMQP_PORT:=5672}"
: "${AMQP_MANAGEMENT_PORT:=15672}"
: "${AMQP_DIST_PORT:=25672}"
: "${RABBITMQ_NODE:=rabbit@localhost}"

log() { printf '[herald-dev] %s\n' "$*" >&2; }

# waitport PORT [TENTHS]: waits until 127.0.0.1:PORT accepts connections.
waitport() {
  local port=$1 tries=${2:-600}
  for _ in $(seq "$tries"); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive FILE: the pid in FILE names a running process.
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

#!/usr/bin/env bash
# Starts and stops the servers Herald needs, on 127.0.0.1, without systemd:
#   stack.sh start|stop|status|restart [all|mongo|mongo-settings|mongo-customers|rabbitmq]
# Two MongoDB-wire instances (settings 27051, customer data 27052) and one RabbitMQ node
# (AMQP 5672, management 15672, distribution 25672). Data, logs and pid files live under
# $STACK_DIR (.stack/ by default, git-ignored). A server already answering on its port is
# left alone. Every daemon is stopped by its pid, never by name.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

mongo_start() { # NAME PORT
  local name=$1 port=$2 dir=$STACK_DIR/mongo-$1
  local pidf=$dir/nx.pid
  if port_open "$port"; then log "mongo $name already answers on $port"; return 0; fi
  [ -x "$NX_VENV/bin/nx-27017" ] || { log "nx-27017 is missing: run deploy/dev/install.sh"; return 1; }
  mkdir -p "$dir/data"
  rm -f "$pidf"                      # a stale pid file blocks the start after a kill -9
  nohup "$NX_VENV/bin/nx-27017" --host 127.0.0.1 -p "$port" --data-dir "$dir/data" \
    --log-file "$dir/nx.log" --pid-file "$pidf" >"$dir/stdout.log" 2>&1 &
  waitport "$port" 300 || { log "mongo $name did not open $port; see $dir/nx.log"; return 1; }
  log "mongo $name on 127.0.0.1:$port (data in $dir/data)"
}

mongo_stop() { # NAME
  local dir=$STACK_DIR/mongo-$1
  local pid
  if pid_alive "$dir/nx.pid" && pid=$(cat "$dir/nx.pid" 2>/dev/null); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "mongo $1 stopped"
  fi
  rm -f "$dir/nx.pid"
}

rabbit_env() {
  R=$STACK_DIR/rabbitmq-$AMQP_PORT
  mkdir -p "$R"/{home,mnesia,log}
  export HOME=$R/home RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log \
    RABBITMQ_NODENAME=$RABBITMQ_NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT \
    RABBITMQ_DIST_PORT=$AMQP_DIST_PORT RABBITMQ_CONFIG_FILE=$R/rabbitmq \
    RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins RABBITMQ_PID_FILE=$R/rabbit.pid \
    ERL_EPMD_ADDRESS=127.0.0.1
}

rabbit_start() {
  if port_open "$AMQP_PORT"; then log "rabbitmq already answers on $AMQP_PORT"; return 0; fi
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || { log "rabbitmq-server is missing: run deploy/dev/install.sh"; return 1; }
  ( rabbit_env
    printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' \
      "$AMQP_PORT" "$AMQP_MANAGEMENT_PORT" >"$R/rabbitmq.conf"
    echo '[rabbitmq_management].' >"$R/enabled_plugins"
    # The node and rabbitmqctl must share one Erlang cookie: made here, before either starts, so
    # they never race to create two different ones in a new HOME.
    if [ ! -s "$HOME/.erlang.cookie" ]; then
      ( umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F >"$HOME/.erlang.cookie" )
      chmod 400 "$HOME/.erlang.cookie"
    fi
    rm -f "$R/rabbit.pid"
    /usr/lib/rabbitmq/bin/rabbitmq-server -detached >"$R/log/start.out" 2>&1
    /usr/lib/rabbitmq/bin/rabbitmqctl wait --timeout 120 "$R/rabbit.pid" >/dev/null 2>&1 \
      || { log "rabbitmq did not start; see $R/log"; exit 1; }
    waitport "$AMQP_PORT" 600 || { log "rabbitmq did not open $AMQP_PORT; see $R/log"; exit 1; }
    log "rabbitmq on 127.0.0.1:$AMQP_PORT (management $AMQP_MANAGEMENT_PORT, data in $R)"
  )
}

rabbit_stop() {
  ( rabbit_env
    local pid
    if pid_alive "$R/rabbit.pid" && pid=$(cat "$R/rabbit.pid" 2>/dev/null); then
      /usr/lib/rabbitmq/bin/rabbitmqctl stop "$R/rabbit.pid" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      log "rabbitmq on $AMQP_PORT stopped"
    fi
    rm -f "$R/rabbit.pid"
    # epmd came up with the node; ask it to exit (over its own port) once no node is registered.
    local epmd; epmd=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n1)
    if [ -n "$epmd" ] && ! "$epmd" -names 2>/dev/null | grep -q '^name '; then "$epmd" -kill >/dev/null 2>&1 || true; fi
  )
}

status() {
  for p in "$MONGO_SETTINGS_PORT:mongo settings" "$MONGO_CUSTOMERS_PORT:mongo customers" "$AMQP_PORT:rabbitmq" "$AMQP_MANAGEMENT_PORT:rabbitmq management"; do
    if port_open "${p%%:*}"; then echo "up    ${p#*:} (127.0.0.1:${p%%:*})"; else echo "down  ${p#*:} (127.0.0.1:${p%%:*})"; fi
  done
}

cmd=${1:-status}; what=${2:-all}
case "$cmd:$what" in
  start:mongo)    mongo_start settings "$MONGO_SETTINGS_PORT"; mongo_start customers "$MONGO_CUSTOMERS_PORT" ;;
  start:rabbitmq) rabbit_start ;;
  start:mongo-settings)  mongo_start settings "$MONGO_SETTINGS_PORT" ;;
  start:mongo-customers) mongo_start customers "$MONGO_CUSTOMERS_PORT" ;;
  stop:mongo-settings)   mongo_stop settings ;;
  stop:mongo-customers)  mongo_stop customers ;;
  start:all)      mongo_start settings "$MONGO_SETTINGS_PORT"; mongo_start customers "$MONGO_CUSTOMERS_PORT"; rabbit_start ;;
  stop:mongo)     mongo_stop settings; mongo_stop customers ;;
  stop:rabbitmq)  rabbit_stop ;;
  stop:all)       rabbit_stop; mongo_stop settings; mongo_stop customers ;;
  restart:*)      "$0" stop "$what"; "$0" start "$what" ;;
  status:*)       status ;;
  *) echo "usage: $0 start|stop|restart|status [all|mongo|mongo-settings|mongo-customers|rabbitmq]" >&2; exit 2 ;;
esac

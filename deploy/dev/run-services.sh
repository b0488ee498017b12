#!/usr/bin/env bash
# `make run`: starts the five services from BIN_DIR against the local stack, waits until each is
# ready, prints the URLs, and stays in the foreground; Ctrl-C (or `make stop`) stops them.
#   run-services.sh BIN_DIR     start and wait
#   run-services.sh --stop      stop services started earlier (by their pid files)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
run_dir=$STACK_DIR/services
mkdir -p "$run_dir"

# name:port — control and tracker move off 80 for development; the others keep their documented ports.
services=("control:${HERALD_CONTROL_PORT:-8080}" "tracker:${HERALD_TRACKER_PORT:-8081}" "job-server:19888" "mta-sender:19891" "bounce-fbl-reader:19892")

stop_services() {
  if pid_alive "$run_dir/mailbox.pid"; then kill -TERM "$(cat "$run_dir/mailbox.pid")" 2>/dev/null || true; fi
  rm -f "$run_dir/mailbox.pid"
  for s in "${services[@]}"; do
    local name=${s%%:*} pidf=$run_dir/${s%%:*}.pid
    if pid_alive "$pidf"; then
      kill -TERM "$(cat "$pidf")" 2>/dev/null || true
    fi
  done
  for s in "${services[@]}"; do
    local pidf=$run_dir/${s%%:*}.pid
    for _ in $(seq 100); do pid_alive "$pidf" || break; sleep 0.1; done
    if pid_alive "$pidf"; then kill -KILL "$(cat "$pidf")" 2>/dev/null || true; fi
    rm -f "$pidf"
  done
}

if [ "${1:-}" = "--stop" ]; then
  touch "$run_dir/stopping"     # tells a running 'make run' that this stop is wanted
  stop_services
  log "services stopped"
  exit 0
fi

bin=${1:?usage: run-services.sh BIN_DIR | --stop}
# The tracking secret of this development machine, made once; the tracker's spool beside the stack.
secret_file=$STACK_DIR/tracking.secret
[ -s "$secret_file" ] || { openssl rand -base64 48 | tr -d '\n' >"$secret_file"; chmod 600 "$secret_file"; }
export HERALD_TRACKING_SECRET; HERALD_TRACKING_SECRET=$(cat "$secret_file")
export HERALD_TRACKER_SPOOL_DIRECTORY=$STACK_DIR/tracker-spool
export HERALD_TRACKING_URL=http://127.0.0.1:${HERALD_TRACKER_PORT:-8081}
stop_services
rm -f "$run_dir/stopping"
# Development never sends to the world: mta-sender relays everything to a local mailbox (Debian's
# aiosmtpd writing a Maildir under the stack), unless HERALD_MTA_RELAY_HOST names another relay.
mail_dir=$STACK_DIR/mail
if [ -z "${HERALD_MTA_RELAY_HOST:-}" ]; then
  mkdir -p "$mail_dir"
  nohup /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:${HERALD_DEV_MAILBOX_PORT:-2525} -c aiosmtpd.handlers.Mailbox "$mail_dir" >"$run_dir/mailbox.log" 2>&1 &
  echo $! >"$run_dir/mailbox.pid"
  for _ in $(seq 50); do port_open "${HERALD_DEV_MAILBOX_PORT:-2525}" && break; sleep 0.1; done
  export HERALD_MTA_RELAY_HOST=127.0.0.1 HERALD_MTA_RELAY_PORT=${HERALD_DEV_MAILBOX_PORT:-2525} HERALD_MTA_RELAY_TLS=disabled
fi
for s in "${services[@]}"; do
  name=${s%%:*}; port=${s#*:}
  [ -x "$bin/$name" ] || { log "$bin/$name is not built"; exit 1; }
  HERALD_HTTP_HOST=127.0.0.1 HERALD_HTTP_PORT=$port HERALD_CONTROL_DEMO_DATA=${HERALD_CONTROL_DEMO_DATA:-true} nohup "$bin/$name" >"$run_dir/$name.log" 2>&1 &
  echo $! >"$run_dir/$name.pid"
done

cleanup() {
  trap - INT TERM EXIT
  log "stopping"
  stop_services
  bash "$here/stack.sh" stop all
}
# Ctrl-C reaches the services too (same process group); note it, and stop everything in order.
interrupted=
trap 'interrupted=1' INT TERM
trap cleanup EXIT

for s in "${services[@]}"; do
  name=${s%%:*}; port=${s#*:}
  ok=
  for _ in $(seq 300); do
    if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then ok=1; break; fi
    pid_alive "$run_dir/$name.pid" || break
    sleep 0.2
  done
  if [ -z "$ok" ]; then
    log "$name did not turn ready; its log ($run_dir/$name.log) ends with:"
    tail -n 20 "$run_dir/$name.log" >&2
    exit 1
  fi
done

first_login="log in with your administrator's password"
if otp=$(grep -o 'one_time_password=[^ ]*' "$run_dir/control.log" | tail -n 1 | cut -d= -f2) && [ -n "$otp" ]; then
  first_login="first run: log in as 'admin' with the one-time password $otp (you then choose your own)"
fi
cat <<EOT

  Herald is running.
    Control panel   http://127.0.0.1:${services[0]#*:}/   ($first_login)
    Tracker         http://127.0.0.1:${services[1]#*:}/health
    Job server      http://127.0.0.1:19888/ready
    mta-sender      http://127.0.0.1:19891/metrics
    bounce reader   http://127.0.0.1:19892/ready
    RabbitMQ UI     http://127.0.0.1:$AMQP_MANAGEMENT_PORT/  (guest / guest)
    Outgoing mail   relayed to $HERALD_MTA_RELAY_HOST:$HERALD_MTA_RELAY_PORT$( [ -s "$run_dir/mailbox.pid" ] && echo " — a local mailbox: every message lands in $mail_dir/new, none leaves this machine")
  Logs: $run_dir/*.log    Stop: Ctrl-C, or 'make stop' from another terminal.

EOT
# Stay in the foreground until a service dies or we are told to stop.
while :; do
  [ -n "$interrupted" ] && exit 0
  for s in "${services[@]}"; do
    if ! pid_alive "$run_dir/${s%%:*}.pid"; then
      sleep 0.5
      [ -n "$interrupted" ] && exit 0
      if [ -e "$run_dir/stopping" ]; then trap - INT TERM EXIT; log "stopped by 'make stop'"; exit 0; fi
      # A service that logged its graceful stop was told to stop (Ctrl-C reaches every process).
      if tail -n 5 "$run_dir/${s%%:*}.log" | grep -q '\] stopped$'; then log "stopping on request"; exit 0; fi
      log "${s%%:*} exited; see $run_dir/${s%%:*}.log"
      exit 1
    fi
  done
  sleep 1
done

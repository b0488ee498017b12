#!/usr/bin/env bash
# Installs what the local Herald stack, the build and the tests need, and nothing that is
# already there. Idempotent: a second run only checks. Debian packages through apt, the
# MongoDB-wire server (nx-27017, pinned) in a virtualenv under the stack folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

apt_packages=(
  pkg-config
  libmongoc-dev libbson-dev          # MongoDB C driver (Shared/CMongoC)
  librabbitmq-dev                    # AMQP 0-9-1 C client (Shared/CRabbitMQ)
  libfreexl-dev                      # XLS spreadsheets for imports (Shared/CFreeXL)
  libxlsxwriter-dev                  # XLSX exports (Shared/CXLSXWriter)
  libldap-dev                        # LDAP logins (Shared/CLDAP)
  slapd ldap-utils openssl           # a real LDAP server (and its test certificate) for the LDAP tests
  libpq-dev postgresql               # SQL syncs read PostgreSQL (Shared/CPostgres); a real server for their tests
  libmariadb-dev mariadb-server      # SQL syncs read MySQL/MariaDB (Shared/CMariaDB); a real server for their tests
  libjs-bootstrap5 libjs-chart.js libjs-codemirror libjs-sortable   # the panel's front-end libraries, served by control
  chromium chromium-driver           # the panel's browser tests (selenium)
  dovecot-pop3d                      # a real POP3 server for bounce-fbl-reader's tests
  postfix swaks python3-aiosmtpd     # SMTP peers for mta-sender's tests and benchmark: smtp-sink, smtp-source, aiosmtpd
  dnsmasq-base                       # a real name server (MX, A records) for the sender's route lookups in tests
  zlib1g-dev                         # zip, for XLSX workbooks (ZIPFoundation)
  rabbitmq-server amqp-tools         # the broker, run from /usr/lib/rabbitmq/bin
  protobuf-compiler                  # protoc, for `make proto`
  python3-venv                       # the nx-27017 virtualenv
  curl procps
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# nx-27017: a MongoDB wire-protocol server on SQLite for development and CI.
if ! "$NX_VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('nx-27017') != '$NX_VERSION')" 2>/dev/null; then
  log "installing nx-27017==$NX_VERSION into $NX_VENV"
  mkdir -p "$STACK_DIR"
  /usr/bin/python3 -m venv "$NX_VENV"
  "$NX_VENV/bin/pip" install -q "nx-27017==$NX_VERSION"
fi
# Python tools for the project's scripts and browser tests, pinned, in the same virtualenv.
for requirement in PyYAML==6.0.2 selenium==4.27.1 dkimpy==1.1.8 PyNaCl==1.5.0; do
  name=${requirement%%==*} version=${requirement##*==}
  if ! "$NX_VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('$name') != '$version')" 2>/dev/null; then
    log "installing $requirement into $NX_VENV"
    "$NX_VENV/bin/pip" install -q "$requirement"
  fi
done
log "dependencies are installed"

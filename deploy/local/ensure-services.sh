#!/usr/bin/env bash
# Make sure the servers the embedded default needs are up on loopback:
#   ensure-services.sh demo   RabbitMQ, and nginx (optional for the demo)
#   ensure-services.sh test   RabbitMQ (and its prometheus plugin), promtool, MariaDB, PostgreSQL,
#                             Redis, nginx, docker-compose and Chromium (the tests use them all)
# A server that is installed but stopped is started; one that is missing is installed from
# Debian's packages when we are root on Debian, otherwise we say what to install.
set -euo pipefail
purpose="${1:-demo}"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $* from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$@" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$@" >/dev/null; }
  else
    echo "missing: $* — install it (Debian: apt-get install $*) or use docker-compose.dev.yml" >&2
    return 1
  fi
}

wait_port() {  # port, name
  for _ in $(seq 1 90); do port_open "$1" && return 0; sleep 1; done
  echo "$2 did not open port $1" >&2
  return 1
}

ensure_rabbitmq() {
  port_open 5672 && return 0
  command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
  echo "starting RabbitMQ"
  (rabbitmq-server -detached >/dev/null 2>&1 || service rabbitmq-server start >/dev/null 2>&1) || true
  wait_port 5672 RabbitMQ
}

ensure_mariadb() {
  port_open 3306 && return 0
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  echo "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 \
    || service mariadb start >/dev/null 2>&1 || true
  wait_port 3306 MariaDB
}

# PostgreSQL, the other supported database: Debian's server creates its cluster on install; the
# tests connect as the postgres superuser without a password over loopback (as root to MariaDB),
# which a fresh cluster refuses (scram), so a throw-away test machine's cluster is told to trust it.
ensure_postgres() {
  local port=5432 version
  if ! port_open "$port"; then
    command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    [ -n "$version" ] || { echo "PostgreSQL is installed but has no cluster" >&2; return 1; }
    echo "starting PostgreSQL $version"
    pg_ctlcluster "$version" main start >/dev/null 2>&1 || service postgresql start >/dev/null 2>&1 || true
    wait_port "$port" PostgreSQL
  fi
  psql -h 127.0.0.1 -p "$port" -U postgres -w -qAtc 'SELECT 1' >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || { echo "PostgreSQL refuses postgres@127.0.0.1 without a password" >&2; return 1; }
  local hba
  hba="$(su postgres -c "psql -p $port -qAtc 'SHOW hba_file'")"
  echo "PostgreSQL: trusting postgres@127.0.0.1 for the tests ($hba)"
  sed -i '1i host all postgres 127.0.0.1/32 trust  # chatlens tests (ensure-services.sh)' "$hba"
  su postgres -c "psql -p $port -qAtc 'SELECT pg_reload_conf()'" >/dev/null
  psql -h 127.0.0.1 -p "$port" -U postgres -w -qAtc 'SELECT 1' >/dev/null
}

ensure_redis() {  # the gateway's rate-limit counters (REDIS_URL); the tests use a real one
  port_open 6379 && return 0
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  echo "starting Redis"
  (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 >/dev/null 2>&1 \
    || service redis-server start >/dev/null 2>&1) || true
  wait_port 6379 Redis
}

# Per-queue metrics (depth, consumers, oldest message) for the monitoring tests: RabbitMQ's own
# prometheus plugin, shipped with rabbitmq-server, on port 15692.
ensure_rabbitmq_prometheus() {
  port_open 15692 && return 0
  rabbitmq-plugins enable rabbitmq_prometheus >/dev/null
  wait_port 15692 "RabbitMQ's prometheus plugin"
}

ensure_binary() {  # binary, package, required
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
  apt_install "$2" || [ "$3" = optional ]
}

ensure_rabbitmq
if [ "$purpose" = test ]; then
  ensure_mariadb
  ensure_postgres
  ensure_redis
  ensure_binary nginx nginx-light required
  ensure_binary docker-compose docker-compose required
  ensure_binary promtool prometheus required  # the alert rules' tests
  ensure_rabbitmq_prometheus
  # The web app's end-to-end tests drive Debian's Chromium (Playwright downloads no browser).
  ensure_binary chromium chromium required
else
  ensure_binary nginx nginx-light optional
fi

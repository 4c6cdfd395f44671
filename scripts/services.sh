# shellcheck shell=bash
# Sourced by scripts/test.sh (and usable by hand: `bash scripts/services.sh start|stop|env`).
# Installs and starts the real services the suite needs, each on its own loopback port with its data
# under .data/services, and exports their URLs. A URL already set in the environment is used as is
# (bring your own servers). Every service is checked reachable; a missing one stops the run by name.
set -o pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
svc_dir="$repo_root/.data/services"
PG_PORT="${THREADQL_PG_PORT:-55432}"
MY_PORT="${THREADQL_MY_PORT:-53306}"
REDIS_PORT="${THREADQL_REDIS_PORT:-56379}"
MONGO_PORT="${THREADQL_MONGO_PORT:-57017}"

say() { echo "services: $*" >&2; }
die() { echo "services: FAILED: $*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # name port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do port_open "$2" && return 0; sleep 0.1; done
  die "$1 did not start listening on 127.0.0.1:$2 within $3 s (log: $svc_dir/$1.log)"
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() { # packages...
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    as_root apt-get update -qq >/dev/null || die "apt-get update failed"
    apt_updated=1
  fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    die "apt-get install $* failed"
}

ensure_packages() {
  local want=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
  command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || want+=(mariadb-server)
  command -v redis-server >/dev/null 2>&1 || want+=(redis-server)
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || want+=(fonts-dejavu-core)
  [ ${#want[@]} -eq 0 ] || apt_install "${want[@]}"
}

start_postgres() {
  if [ -n "${THREADQL_TEST_POSTGRES_URL:-}" ]; then say "PostgreSQL: using THREADQL_TEST_POSTGRES_URL"; return; fi
  export THREADQL_TEST_POSTGRES_URL="postgres://threadql:threadql@127.0.0.1:$PG_PORT/threadql_test"
  if port_open "$PG_PORT"; then say "PostgreSQL: already on :$PG_PORT"; return; fi
  local bin run=()
  bin="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")"
  local data="$svc_dir/postgres"
  if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    "${run[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$svc_dir/postgres-init.log" 2>&1 ||
      die "PostgreSQL initdb failed (see $svc_dir/postgres-init.log)"
  fi
  "${run[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null ||
    die "PostgreSQL did not start (see $data/server.log)"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAt -c "SELECT 1 FROM pg_roles WHERE rolname='threadql'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE ROLE threadql LOGIN SUPERUSER PASSWORD 'threadql'" >/dev/null
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAt -c "SELECT 1 FROM pg_database WHERE datname='threadql_test'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE threadql_test OWNER threadql" >/dev/null
  say "PostgreSQL: started on :$PG_PORT"
}

start_mariadb() {
  if [ -n "${THREADQL_TEST_MYSQL_URL:-}" ]; then say "MariaDB: using THREADQL_TEST_MYSQL_URL"; return; fi
  export THREADQL_TEST_MYSQL_URL="mysql://threadql:threadql@127.0.0.1:$MY_PORT/threadql_test"
  if port_open "$MY_PORT"; then say "MariaDB: already on :$MY_PORT"; return; fi
  local data="$svc_dir/mariadb" server
  server="$(command -v mariadbd || command -v mysqld)"
  mkdir -p "$data"
  if [ ! -d "$data/mysql" ]; then
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$data" --auth-root-authentication-method=normal \
      --skip-test-db >"$svc_dir/mariadb-init.log" 2>&1 || die "MariaDB install-db failed (see $svc_dir/mariadb-init.log)"
  fi
  nohup "$server" --no-defaults --user="$(id -un)" --datadir="$data" --port="$MY_PORT" --bind-address=127.0.0.1 \
    --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" --innodb-flush-log-at-trx-commit=0 \
    --max-connections=300 >"$svc_dir/mariadb.log" 2>&1 &
  wait_port mariadb "$MY_PORT" 60
  local i
  for ((i = 0; i < 100; i++)); do mariadb-admin --socket="$data/mysqld.sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
  mariadb --socket="$data/mysqld.sock" -uroot -e "
    CREATE DATABASE IF NOT EXISTS threadql_test;
    CREATE USER IF NOT EXISTS 'threadql'@'127.0.0.1' IDENTIFIED BY 'threadql';
    CREATE USER IF NOT EXISTS 'threadql'@'localhost' IDENTIFIED BY 'threadql';
    GRANT ALL ON *.* TO 'threadql'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL ON *.* TO 'threadql'@'localhost' WITH GRANT OPTION;" || die "MariaDB user setup failed"
  say "MariaDB: started on :$MY_PORT"
}

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then say "Redis: using REDIS_URL"; return; fi
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  if port_open "$REDIS_PORT"; then say "Redis: already on :$REDIS_PORT"; return; fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$svc_dir" --logfile "$svc_dir/redis.log" --pidfile "$svc_dir/redis.pid" >/dev/null || die "Redis did not start"
  wait_port redis "$REDIS_PORT" 20
  say "Redis: started on :$REDIS_PORT"
}

# Builds FerretDB 1.x (SQLite backend) from the Go module proxy; see scripts/ferretdb/main.go.
ferretdb_binary() {
  local bin="$repo_root/.tools/ferretdb-embedded"
  local stamp="$repo_root/.tools/ferretdb-embedded.sum"
  local want
  want="$(cat "$repo_root/scripts/ferretdb/go.sum" "$repo_root/scripts/ferretdb/main.go" | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v go >/dev/null 2>&1 || die "MongoDB-wire server: no MONGODB_URI and no Go toolchain to build FerretDB"
    say "building FerretDB 1.24 (SQLite backend) with Go; the first build takes about a minute"
    mkdir -p "$repo_root/.tools"
    (cd "$repo_root/scripts/ferretdb" && GOFLAGS=-mod=mod go build -o "$bin" .) >&2 || die "FerretDB build failed"
    echo "$want" >"$stamp"
  fi
  echo "$bin"
}

start_ferretdb() { # port datadir logname
  local bin
  bin="$(ferretdb_binary)" || exit 1
  mkdir -p "$2"
  nohup "$bin" -listen-addr "127.0.0.1:$1" -data-dir "$2" -log-level error >"$svc_dir/$3.log" 2>&1 &
  echo $! >"$svc_dir/$3.pid"
  wait_port "$3" "$1" 30
}

start_mongo_wire() {
  if [ -n "${MONGODB_URI:-}" ]; then
    say "MongoDB: using MONGODB_URI"
    if command -v go >/dev/null 2>&1; then ferretdb_binary >/dev/null || exit 1; else
      say "no Go toolchain: the fault tests (test/faults) cannot start FerretDBs of their own"
    fi
    return
  fi
  export MONGODB_URI="mongodb://127.0.0.1:$MONGO_PORT/threadql_test"
  if port_open "$MONGO_PORT"; then
    say "MongoDB wire (FerretDB): already on :$MONGO_PORT"
    # The fault tests start FerretDBs of their own (stopped and started for real): they need the binary here too.
    ferretdb_binary >/dev/null || exit 1
    return
  fi
  start_ferretdb "$MONGO_PORT" "$svc_dir/ferretdb" ferretdb
  say "MongoDB wire: FerretDB 1.24 (SQLite backend) started on :$MONGO_PORT"
}

check_chromium() {
  local chrome="${PUPPETEER_EXECUTABLE_PATH:-$(command -v chromium || true)}"
  [ -x "$chrome" ] || die "chromium not found (install Debian's chromium or set PUPPETEER_EXECUTABLE_PATH)"
  export PUPPETEER_EXECUTABLE_PATH="$chrome"
}

start_services() {
  mkdir -p "$svc_dir"
  ensure_packages
  start_postgres
  start_mariadb
  start_redis
  start_mongo_wire
  check_chromium
  say "all services reachable"
}

stop_services() {
  local bin
  bin="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1)")"
  if [ -f "$svc_dir/postgres/postmaster.pid" ]; then
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$svc_dir/postgres" stop -m fast >/dev/null
    else "$bin/pg_ctl" -D "$svc_dir/postgres" stop -m fast >/dev/null; fi
  fi
  [ -f "$svc_dir/mariadb/mysqld.pid" ] && kill "$(cat "$svc_dir/mariadb/mysqld.pid")" 2>/dev/null
  [ -f "$svc_dir/redis.pid" ] && kill "$(cat "$svc_dir/redis.pid")" 2>/dev/null
  [ -f "$svc_dir/ferretdb.pid" ] && kill "$(cat "$svc_dir/ferretdb.pid")" 2>/dev/null
  say "stopped"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -eu
  case "${1:-start}" in
    start) start_services ;;
    stop) stop_services ;;
    env) start_services >&2
         echo "export MONGODB_URI='$MONGODB_URI' REDIS_URL='$REDIS_URL'"
         echo "export THREADQL_TEST_POSTGRES_URL='$THREADQL_TEST_POSTGRES_URL' THREADQL_TEST_MYSQL_URL='$THREADQL_TEST_MYSQL_URL'"
         echo "export PUPPETEER_EXECUTABLE_PATH='$PUPPETEER_EXECUTABLE_PATH'" ;;
    *) echo "usage: scripts/services.sh start|stop|env" >&2; exit 2 ;;
  esac
fi

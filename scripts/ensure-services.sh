#!/usr/bin/env bash
# Makes the PostgreSQL server in DATABASE_URL and the Redis server in REDIS_URL reachable.
#
# Reuses servers that already respond. Otherwise, when the URL names this machine, it starts
# one from the Debian packages with its data under .run/ in the project: .run/postgres
# (initdb, trust authentication) and .run/redis. It installs the packages when they are
# missing and it runs as root. Any other user gets the install command and exit status 1.
# Finally it creates the database named in DATABASE_URL when it does not exist.
#
# Defaults: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
#           REDIS_URL=redis://127.0.0.1:6379
# Stop the servers it started with:
#   pg_ctl -D .run/postgres stop        (as the postgres user when run as root)
#   redis-cli -p <port> shutdown nosave
set -euo pipefail

project_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly project_dir
readonly run_dir="${project_dir}/.run"
readonly ensure_tools="${project_dir}/scripts/ensure-tools.sh"

database_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}

log() { echo "ensure-services: $*"; }
fail() {
  echo "ensure-services: $*" >&2
  exit 1
}

# Decodes %XX escapes, as URLs carry them in user names, passwords and database names.
url_decode() {
  local encoded=${1//\\/\\\\}
  printf '%b' "${encoded//%/\\x}"
}

# Splits "<scheme>://[user[:password]@]host[:port][/path][?query]" into the globals
# url_user, url_password, url_host, url_port and url_path. The query string is ignored.
parse_url() {
  local url=$1 default_port=$2
  local rest=${url#*://} authority userinfo=''
  if [[ $rest == "$url" ]]; then
    fail "invalid URL \"${url}\": expected <scheme>://host[:port]/..."
  fi
  rest=${rest%%\?*}
  authority=${rest%%/*}
  url_path=''
  if [[ $rest == */* ]]; then
    url_path=$(url_decode "${rest#*/}")
  fi
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    authority=${authority##*@}
  fi
  url_user=$(url_decode "${userinfo%%:*}")
  url_password=''
  if [[ $userinfo == *:* ]]; then
    url_password=$(url_decode "${userinfo#*:}")
  fi
  if [[ $authority == \[* ]]; then
    url_host=${authority%%]*}
    url_host=${url_host#[}
    url_port=${authority#*]}
    url_port=${url_port#:}
  else
    url_host=${authority%%:*}
    url_port=''
    if [[ $authority == *:* ]]; then
      url_port=${authority##*:}
    fi
  fi
  url_port=${url_port:-$default_port}
  if [[ -z $url_host || ! $url_port =~ ^[0-9]+$ ]]; then
    fail "invalid URL \"${url%%@*}@...\": expected a host and a numeric port"
  fi
}

is_local_host() {
  [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]
}

# ---- PostgreSQL ---------------------------------------------------------------------------

parse_url "$database_url" 5432
case "$database_url" in
  postgres://* | postgresql://*) ;;
  *) fail "DATABASE_URL must start with postgres:// or postgresql://" ;;
esac
readonly pg_host=$url_host pg_port=$url_port
readonly pg_user=${url_user:-postgres}
readonly pg_database=${url_path:-$pg_user}
if [[ -n $url_password ]]; then
  export PGPASSWORD=$url_password
fi
export PGCONNECT_TIMEOUT=5

postgres_reachable() {
  pg_isready -q -h "$pg_host" -p "$pg_port" -t 3
}

# Prints the /usr/lib/postgresql/<version>/bin directory of the newest installed server.
postgres_bin_dir() {
  find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' -printf '%h\n' 2>/dev/null |
    sort -V | tail -n 1
}

start_postgres() {
  local data_dir="${run_dir}/postgres" log_file="${run_dir}/postgres.log" listen_address
  if ! is_local_host "$pg_host"; then
    fail "PostgreSQL at ${pg_host}:${pg_port} is not reachable, and that host is not this machine. Start it or change DATABASE_URL."
  fi
  listen_address=127.0.0.1
  if [[ $pg_host == ::1 ]]; then
    listen_address=::1
  fi

  "$ensure_tools" postgresql
  local bin_dir
  bin_dir=$(postgres_bin_dir)
  [[ -n $bin_dir ]] || fail "initdb not found under /usr/lib/postgresql after installing postgresql"

  # PostgreSQL refuses to run as root, so root runs it as the postgres system user.
  local run_as=()
  mkdir -p "$run_dir" "$data_dir"
  touch "$log_file"
  if [[ $EUID -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
      log "created the system user postgres"
    fi
    chown postgres: "$data_dir" "$log_file"
    run_as=(runuser -u postgres --)
    if ! "${run_as[@]}" test -w "$data_dir"; then
      fail "the postgres user cannot write ${data_dir}. Make the parent directories searchable (chmod o+x) or run this script as a non-root user."
    fi
  fi
  chmod 700 "$data_dir"

  if [[ ! -f $data_dir/PG_VERSION ]]; then
    "${run_as[@]}" "$bin_dir/initdb" -D "$data_dir" -U "$pg_user" --auth=trust \
      --encoding=UTF8 --no-locale >/dev/null
    # TCP only: the default socket directory /var/run/postgresql may not be writable.
    echo "unix_socket_directories = ''" >>"$data_dir/postgresql.conf"
    log "initialized a PostgreSQL cluster in ${data_dir} (superuser ${pg_user}, trust authentication)"
  fi
  # A server left running from .run/postgres on another address or port is restarted.
  if "${run_as[@]}" "$bin_dir/pg_ctl" -D "$data_dir" status >/dev/null 2>&1; then
    "${run_as[@]}" "$bin_dir/pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null
  fi
  if ! "${run_as[@]}" "$bin_dir/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 \
    -o "-c listen_addresses=${listen_address} -p ${pg_port}" start >/dev/null; then
    tail -n 20 "$log_file" >&2
    fail "PostgreSQL did not start on ${listen_address}:${pg_port}; see ${log_file}"
  fi
  log "started PostgreSQL on ${listen_address}:${pg_port} with data in ${data_dir}, log in ${log_file}"
}

ensure_database() {
  local maintenance_db exists='' connected=false
  for maintenance_db in postgres template1; do
    if exists=$(psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$maintenance_db" -X -q -A -t \
      -v ON_ERROR_STOP=1 -v name="$pg_database" 2>/dev/null <<<"SELECT 1 FROM pg_database WHERE datname = :'name'"); then
      connected=true
      break
    fi
  done
  if [[ $connected == false ]]; then
    # Run once more with stderr visible so that the user sees why the connection failed.
    psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -X -c 'SELECT 1' >/dev/null ||
      true
    fail "cannot connect to PostgreSQL at ${pg_host}:${pg_port} as ${pg_user}"
  fi
  if [[ $exists == 1 ]]; then
    log "database ${pg_database} exists"
    return
  fi
  createdb -h "$pg_host" -p "$pg_port" -U "$pg_user" -- "$pg_database"
  log "created database ${pg_database}"
}

# ---- Redis --------------------------------------------------------------------------------

parse_url "$redis_url" 6379
case "$redis_url" in
  redis://*) ;;
  *) fail "REDIS_URL must start with redis:// (a TLS rediss:// server cannot be started here)" ;;
esac
readonly redis_host=$url_host redis_port=$url_port redis_user=$url_user redis_password=$url_password

# Prints the server's reply to PING, or nothing when the server does not respond.
redis_ping() {
  # redis-cli -u does not decode %XX escapes, so pass the decoded parts instead.
  local environment=() args=(-h "$redis_host" -p "$redis_port")
  if [[ -n $redis_user ]]; then
    args+=(--user "$redis_user")
  fi
  # REDISCLI_AUTH keeps the password off the command line.
  if [[ -n $redis_password ]]; then
    environment+=("REDISCLI_AUTH=${redis_password}")
  fi
  env "${environment[@]}" timeout 5 redis-cli "${args[@]}" ping 2>/dev/null || true
}

redis_reachable() {
  local reply
  reply=$(redis_ping)
  if [[ -n $reply && $reply != PONG ]]; then
    fail "Redis at ${redis_host}:${redis_port} replied \"${reply}\" to PING; check the credentials in REDIS_URL"
  fi
  [[ $reply == PONG ]]
}

start_redis() {
  local data_dir="${run_dir}/redis"
  if ! is_local_host "$redis_host"; then
    fail "Redis at ${redis_host}:${redis_port} is not reachable, and that host is not this machine. Start it or change REDIS_URL."
  fi
  "$ensure_tools" redis-server
  # Debian's redis-server package starts its own service on 6379 where init scripts may run.
  if redis_reachable; then
    log "reusing Redis at ${redis_host}:${redis_port}, started by the redis-server package"
    return
  fi

  local bind_address=127.0.0.1
  if [[ $redis_host == ::1 ]]; then
    bind_address=::1
  fi
  mkdir -p "$data_dir"
  local log_file="${data_dir}/redis-${redis_port}.log"
  local args=(--daemonize yes --bind "$bind_address" --port "$redis_port" --dir "$data_dir"
    --pidfile "${data_dir}/redis-${redis_port}.pid" --logfile "$log_file" --save '' --appendonly no)
  if [[ -n $redis_password ]]; then
    # NOTE: the password is set for the default user, so a user name in REDIS_URL fails the check below.
    args+=(--requirepass "$redis_password")
  fi
  redis-server "${args[@]}"
  local _
  for _ in $(seq 1 50); do
    if redis_reachable; then
      log "started Redis on ${bind_address}:${redis_port} with data in ${data_dir}"
      return
    fi
    sleep 0.2
  done
  tail -n 20 "$log_file" >&2 || true
  fail "Redis did not respond to PING on ${bind_address}:${redis_port} within 10 s; see ${log_file}"
}

# ---- main ---------------------------------------------------------------------------------

"$ensure_tools" postgresql-client redis-tools

if postgres_reachable; then
  log "reusing PostgreSQL at ${pg_host}:${pg_port}"
else
  start_postgres
fi
ensure_database

if redis_reachable; then
  log "reusing Redis at ${redis_host}:${redis_port}"
else
  start_redis
fi

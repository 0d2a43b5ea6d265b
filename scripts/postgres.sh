#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the test suite, installing
# Debian's postgresql package first when no server is found.
#   scripts/postgres.sh start DIR PORT   -> prints the database URL
#   scripts/postgres.sh stop DIR
set -euo pipefail

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

install_postgres() {
  echo "PostgreSQL server not found: installing Debian's postgresql package" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "not root: install PostgreSQL (apt-get install postgresql) or set CIVIC311_TEST_POSTGRES_URL" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

# Runs a command as the server's owner: initdb and postgres refuse to run as root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

cmd=${1:?usage: postgres.sh start DIR PORT | stop DIR}
dir=${2:?data directory}
case "$cmd" in
  start)
    port=${3:?port}
    bin=$(find_bin) || { install_postgres; bin=$(find_bin); }
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "'$bin/initdb' -D '$dir/data' -A trust -U postgres --no-sync" >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # Durability stays on (fsync, synchronous_commit): the tests and benchmarks measure
    # the same commits a city would run.
    as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 \
      -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200\" start" >&2 \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(find_bin) || exit 0
    [ -d "$dir/data" ] && as_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop" >/dev/null 2>&1 || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac

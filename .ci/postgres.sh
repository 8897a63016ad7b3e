#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the audit trail's tests: a fresh data folder under a temporary
# directory, listening on 127.0.0.1 only, on a free port, with trust authentication (nothing but
# this machine can reach it, and it is deleted at stop).
#
#   eval "$(.ci/postgres.sh start)"   # prints: export TEST_POSTGRES_URL=… PG_TEST_DIR=…
#   deno task test                    # the audit tests run against SQLite and this cluster
#   .ci/postgres.sh stop              # stops it and deletes the folder (uses $PG_TEST_DIR)
#
# Needs Debian's `postgresql` package (initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, or
# on PATH). As root the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail

bin_dir() {
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return
  fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
    echo "postgres.sh: initdb not found; install PostgreSQL (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$found"
}

# Runs a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A port in the ephemeral range that nothing on loopback answers on.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "postgres.sh: no free port found" >&2
  exit 1
}

start() {
  local bin dir port
  bin=$(bin_dir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/credit-pg-XXXXXX")
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  port=${PG_TEST_PORT:-$(free_port)}
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  # Loopback only; the unix socket lives in the temporary folder, not in /var/run.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on" \
    start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
  }
  echo "export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export PG_TEST_DIR=$dir"
}

stop() {
  local dir=${1:-${PG_TEST_DIR:-}}
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "postgres.sh: nothing to stop (PG_TEST_DIR is not a folder)" >&2
    return 0
  fi
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: .ci/postgres.sh start | stop [DIR]" >&2
    exit 2
    ;;
esac

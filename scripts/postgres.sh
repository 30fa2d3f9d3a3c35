#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: `source scripts/postgres.sh` starts one on a
# temporary data directory and a free loopback port, as a non-root user (PostgreSQL refuses
# to run as root: under root a system user creditwatch-pg is made for it), exports
# CREDITWATCH_TEST_POSTGRES (a postgres:// URL) and defines pg_stop, its teardown, for the
# caller's EXIT trap.
# Needs Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin).

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  return 1 2>/dev/null || exit 1
fi
pg_dir=$(mktemp -d /tmp/creditwatch-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_run=()
if [ "$(id -u)" -eq 0 ]; then
  id creditwatch-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin creditwatch-pg
  chown creditwatch-pg "$pg_dir"
  pg_run=(runuser -u creditwatch-pg --)
fi
"${pg_run[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U creditwatch --auth=trust -E UTF8 --locale=C.UTF-8 >"$pg_dir/initdb.log" 2>&1 ||
  { cat "$pg_dir/initdb.log" >&2; echo "postgres.sh: initdb failed" >&2; return 1 2>/dev/null || exit 1; }
"${pg_run[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null ||
  { cat "$pg_dir/server.log" >&2; echo "postgres.sh: PostgreSQL did not start" >&2; return 1 2>/dev/null || exit 1; }
export CREDITWATCH_TEST_POSTGRES="postgres://creditwatch@127.0.0.1:$pg_port/postgres?sslmode=disable"
pg_stop() {
  "${pg_run[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}

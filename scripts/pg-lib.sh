# pg-lib.sh - sourced (bash): starts and stops a throwaway PostgreSQL, for
# scripts/pg-test.sh (the pg test label) and examples/cluster/run.sh. The
# cluster is made by Debian's initdb in a temporary directory and listens on
# a Unix socket there only (no TCP port, so parallel runs never collide).
# PostgreSQL refuses to run as root: as root (CI) it runs as `nobody`. fsync
# is off: tests and the demo kill tfaas, never the machine.
#
# pg_start: 0 and PG_DIR, PG_URL (a postgresql:// URL) set; 77 when
# PostgreSQL is not installed; 1 when it would not start (its log on stderr).
# pg_stop: stops it and removes PG_DIR; safe to call twice.

pg_start() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2
    return 77
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tfaas-pg-XXXXXX")
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    chown nobody "$PG_DIR"
    PG_AS=(runuser -u nobody --)
  fi
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U tfaas -E UTF8 --locale=C --no-sync \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-k $PG_DIR -c listen_addresses= -c fsync=off -p 5432" start >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_URL="postgresql:///postgres?host=$PG_DIR&port=5432&user=tfaas"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}

#!/usr/bin/env bash
# pg-test.sh COMMAND... - runs COMMAND against a throwaway PostgreSQL: a
# cluster made by Debian's initdb in a temporary directory, listening on a
# Unix socket there only (no TCP port, so parallel runs never collide),
# stopped and removed when COMMAND ends. COMMAND finds it in $TFAAS_TEST_PG
# (a postgresql:// URL). PostgreSQL refuses to run as root: as root (CI) the
# cluster runs as `nobody`. fsync is off: the tests kill tfaas, never the
# machine. Exit status: COMMAND's, or 77 when PostgreSQL is not installed.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg-test: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/tfaas-pg-XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
  chown nobody "$dir"
  as=(runuser -u nobody --)
fi
stop() {
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U tfaas -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-k $dir -c listen_addresses= -c fsync=off -p 5432" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
export TFAAS_TEST_PG="postgresql:///postgres?host=$dir&port=5432&user=tfaas"
"$@"

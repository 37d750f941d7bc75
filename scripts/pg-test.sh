#!/usr/bin/env bash
# pg-test.sh COMMAND... - runs COMMAND against a throwaway PostgreSQL
# (scripts/pg-lib.sh: a Unix socket in a temporary directory, stopped and
# removed when COMMAND ends). COMMAND finds it in $TFAAS_TEST_PG (a
# postgresql:// URL). Exit status: COMMAND's, or 77 when PostgreSQL is not
# installed.
set -euo pipefail
. "$(dirname "$0")/pg-lib.sh"
trap pg_stop EXIT
rc=0
pg_start || rc=$?
if [ "$rc" = 77 ]; then echo "pg-test: skipped" >&2; exit 77; fi
[ "$rc" = 0 ] || exit "$rc"
export TFAAS_TEST_PG="$PG_URL"
"$@"

#!/bin/sh
# check-link-graph.sh GRAPH [--without LIB] - checks the link graph the build
# declares (GRAPH, written by scripts/link-graph.cmake) against what each
# archive really references (nm):
#   - every symbol an archive uses is defined in the archive itself, in what
#     the target names (its archives and libraries) or in the C runtime
#     (libc, libm, libgcc, sanitizer runtimes): a module using SQLite, curl
#     or another module without saying so fails;
#   - every archive or library a target names is used by it: a target
#     naming what it does not use (and so passing it to whoever links it)
#     fails;
#   - a library with owners ("owner libsqlite3 tfaas_host_store") is named
#     by its owners only: SQLite and libpq only in the store, libmicrohttpd
#     only in the HTTP fronts, curl only in the CLI;
#   - "hooks duktape ARCHIVE": duktape may use ARCHIVE's symbols unnamed (the
#     hooks its configuration calls back into the enclave that links it).
# --without LIB drops LIB from every target's providers: the control run
# (ctest build/link-graph-control) that shows the check can fail.
set -eu
graph=$1
without=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# defined FILE: the global symbols FILE defines, one a line, without versions.
defined() {
  case $1 in
    *.a) nm -g --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' ;;
    *) nm -D --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' ;;
  esac | sed 's/@.*//' | sort -u
}
# cached FILE: the file holding `defined FILE`, made once per run.
cached() {
  c=$tmp/def$(echo "$1" | tr '/.' '__')
  [ -e "$c" ] || defined "$1" > "$c"
  echo "$c"
}
# stem FILE: libsqlite3 for /usr/lib/.../libsqlite3.so, tfaas_host_store for
# .../libtfaas_host_store.a.
stem() {
  b=${1##*/}
  b=${b%%.so*}
  b=${b%.a}
  case $b in libtfaas_*) b=${b#lib} ;; esac
  echo "$b"
}

cc=${CC:-cc}
: > "$tmp/runtime"
for f in libc.so.6 libm.so.6 libc_nonshared.a libgcc_s.so.1 ld-linux-x86-64.so.2 libstdc++.so.6; do
  p=$($cc -print-file-name=$f)
  [ -e "$p" ] && defined "$p" >> "$tmp/runtime"
done
defined "$($cc -print-libgcc-file-name)" >> "$tmp/runtime"
printf "_GLOBAL_OFFSET_TABLE_\n__dso_handle\n" >> "$tmp/runtime" # made by the linker, crtbegin.o
sort -u -o "$tmp/runtime" "$tmp/runtime"

fail=0
while read -r kind name archive providers; do
  [ "$kind" = target ] || continue
  nm -u "$archive" 2>/dev/null | awk '$1 == "U" { print $2 }' | sed 's/@.*//' | sort -u > "$tmp/used"
  defined "$archive" > "$tmp/self"
  comm -23 "$tmp/used" "$tmp/self" > "$tmp/external"
  comm -23 "$tmp/external" "$tmp/runtime" |
    grep -vE '^__(asan|ubsan|tsan|lsan|sanitizer|msan)_' > "$tmp/left" || true
  for h in $(awk -v n="$name" '$1 == "hooks" && $2 == n { print $3 }' "$graph"); do
    comm -23 "$tmp/left" "$(cached "$h")" > "$tmp/rest"
    mv "$tmp/rest" "$tmp/left"
  done
  for p in $providers; do
    s=$(stem "$p")
    [ "$s" = "$without" ] && continue
    prov=$(cached "$p")
    comm -12 "$tmp/left" "$prov" > "$tmp/hit"
    if [ ! -s "$tmp/hit" ] && ! comm -12 "$tmp/external" "$prov" | grep -q .; then
      echo "$name names $s but uses none of its symbols"
      fail=1
    fi
    comm -23 "$tmp/left" "$prov" > "$tmp/rest"
    mv "$tmp/rest" "$tmp/left"
    owners=$(awk -v s="$s" '$1 == "owner" && $2 == s { $1 = $2 = ""; print }' "$graph" | sed "s/^ *//")
    if [ -n "$owners" ] && ! echo " $owners " | grep -q " $name "; then
      echo "$name names $s, which only $owners may use"
      fail=1
    fi
  done
  if [ -s "$tmp/left" ]; then
    echo "$name uses symbols from what it does not name: $(head -8 "$tmp/left" | tr '\n' ' ')"
    fail=1
  fi
done < "$graph"
[ $fail = 0 ] && echo "link graph: every target uses exactly what it names ($(grep -c '^target' "$graph") targets)"
exit $fail

#!/bin/sh
# check-no-engine.sh BINARY - fails when BINARY holds or imports JavaScript
# engine code: Duktape's duk_* symbols, V8's or Node's (v8::, node::), or a
# dependency on libnode. CTest runs it on tfaas-kms and tfaas-qe (the key and
# quoting services have no engine, docs/architecture.md) and, as a control
# that the check can fail, on tfaas-enclave.
set -eu
bin=$1
found=$(nm -C "$bin" 2>/dev/null | grep -E ' (duk_[a-z_]+|v8::|node::)' | head -5 || true)
dyn=$(nm -C -D "$bin" 2>/dev/null | grep -E ' (duk_[a-z_]+|v8::|node::)' | head -5 || true)
libs=$(readelf -d "$bin" | grep -E 'NEEDED.*libnode' || true)
if [ -n "$found$dyn$libs" ]; then
  echo "$bin holds JavaScript engine code:"
  printf '%s\n%s\n%s\n' "$found" "$dyn" "$libs" | grep -v '^$'
  exit 1
fi
echo "$bin: no duk_*, v8::, node:: symbols and no libnode"

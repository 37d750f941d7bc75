#!/usr/bin/env bash
# Installs what tfaas needs on a fresh Debian machine: Debian packages for the
# build and the tests, and the npm packages the compatibility tests and the
# benchmark use. Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev
  libseccomp-dev duktape-dev libcurl4-openssl-dev
  # zip actions: unzipped in memory, in the gateway and the enclave
  libzip-dev
  # the CA set compiled into the worker enclaves (fetch's TLS), as DER
  # that the openssl command makes from it at build time
  ca-certificates openssl
  nodejs npm wrk util-linux procps sqlite3 gnuplot-nox
  # the PostgreSQL store backend (libpq) and the server its tests start
  # (scripts/pg-test.sh; psql makes the integration suites' schemas)
  libpq-dev postgresql postgresql-client
  # the load balancer of `make cluster` and tests/cluster (examples/cluster/)
  haproxy
  # what libnode.so (V8, for tfaas-enclave-v8) links; libnode itself is
  # unpacked, not installed, by scripts/libnode.sh (called by CMake)
  libbrotli1 libc-ares2 libicu72 libnghttp2-14 libuv1 zlib1g
  # the V8 shim hooks ICU's allocator (u_setMemoryFunctions): its header and
  # libicuuc.so to link
  libicu-dev
  # the web console's browser tests (tests/integration/console.test.mjs drive
  # it with puppeteer-core, which downloads no browser of its own)
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian: a working binary is enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# V8 for tfaas-enclave-v8: Debian's libnode unpacked into .deps/libnode (CMake
# calls this too; it downloads only when Debian has a new version).
scripts/libnode.sh .deps/libnode

# npm packages for tests/ and bench/, and those the V8 enclave bundles at
# build time (src/trusted/v8/node_builtins/: npm's ports of the Node
# built-ins; src/trusted/v8/bundle/: whatwg-url and esbuild), each pinned by
# its package-lock.json.
for dir in tests bench src/trusted/v8/node_builtins src/trusted/v8/bundle; do
  if [ -f "$dir/package.json" ]; then
    stamp="$dir/node_modules/.tfaas-stamp"
    if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
      echo "install-deps: npm ci in $dir/"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) && touch "$stamp"
    fi
  fi
done

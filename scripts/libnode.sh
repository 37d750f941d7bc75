#!/usr/bin/env bash
# Unpacks V8 (Debian's libnode108 + libnode-dev, Node.js 18) into DEST without
# installing it: `apt-get install libnode-dev` is refused beside a Node.js that
# did not come from Debian (its node-* dependencies want Debian's nodejs), and
# tfaas needs only the headers and libnode.so. The V8 enclave
# (tfaas-enclave-v8) compiles with -I DEST/usr/include/node and links
# DEST/usr/lib/x86_64-linux-gnu/libnode.so with an rpath to it. libnode's own
# shared-library dependencies are plain Debian packages installed by
# scripts/install-deps.sh. Cached: nothing is downloaded when DEST already holds
# the same version.
#
#   scripts/libnode.sh DEST
set -euo pipefail
dest=${1:?usage: scripts/libnode.sh DEST}
stamp="$dest/.tfaas-libnode"
# The version apt would pick now; an unchanged one keeps the unpacked copy.
candidate() { apt-cache policy libnode108 2>/dev/null | awk '/Candidate:/ {print $2}'; }
want=$(candidate)
if { [ -z "$want" ] || [ "$want" = "(none)" ]; } && [ ! -f "$stamp" ]; then
  # A fresh machine may have no package lists yet.
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  want=$(candidate)
fi
if { [ -z "$want" ] || [ "$want" = "(none)" ]; } && [ -f "$stamp" ] && [ -f "$dest/usr/include/node/v8.h" ]; then
  exit 0 # offline or no lists: keep what is unpacked
fi
if [ -z "$want" ] || [ "$want" = "(none)" ]; then
  echo "libnode.sh: apt knows no libnode108 package (is this Debian bookworm with its sources?)" >&2
  exit 1
fi
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dest/usr/include/node/v8.h" ]; then
  exit 0
fi
echo "libnode.sh: unpacking libnode108 and libnode-dev $want into $dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the current directory; as root it warns that
# the _apt user cannot write there, which is harmless.
(cd "$tmp" && apt-get download -q "libnode108=$want" "libnode-dev=$want" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
debs=("$tmp"/libnode108_*.deb "$tmp"/libnode-dev_*.deb)
for d in "${debs[@]}"; do
  [ -f "$d" ] || { echo "libnode.sh: apt-get download did not fetch $(basename "$d")" >&2; exit 1; }
done
rm -rf "$dest"
mkdir -p "$dest"
for d in "${debs[@]}"; do dpkg -x "$d" "$dest"; done
echo "$want" > "$stamp"

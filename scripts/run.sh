#!/usr/bin/env bash
# `make run`: starts tfaas serve on its embedded defaults (SQLite state in
# STATE, sim TEE), deploys every examples/*.js as an action of the guest
# namespace, a trigger `greet` with a rule `greet-hello` (greet -> hello),
# prints how to call them, and keeps the server in the foreground.
# usage: scripts/run.sh BIN_DIR STATE_DIR LISTEN_ADDR
set -euo pipefail
bin=${1:-build/bin} state=${2:-.tfaas} listen=${3:-127.0.0.1:3233}
cd "$(dirname "$0")/.."
tfaas="$bin/tfaas"
[ -x "$tfaas" ] || { echo "run.sh: $tfaas not built (run make)" >&2; exit 1; }

mkdir -p -m 700 "$state"
# tfaas serve refuses a state directory others could write to (they could
# plant links there); this script checks first, as it writes its log there.
if [ ! -O "$state" ] || [ -n "$(find "$state" -maxdepth 0 -perm /022)" ]; then
  echo "run.sh: $state must be yours and writable by neither group nor others (chmod 700 $state)" >&2
  exit 1
fi
log="$state/serve.log"
: > "$log"
"$tfaas" serve --listen "$listen" --state "$state" > >(tee -a "$log") 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
trap 'exit 0' INT TERM

for _ in $(seq 1 100); do
  grep -q "listening on" "$log" && break
  kill -0 $server 2>/dev/null || { echo "run.sh: tfaas serve exited; see $log" >&2; exit 1; }
  sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$log" | head -n 1)
[ -n "$url" ] || { echo "run.sh: tfaas serve did not start within 10 s; see $log" >&2; exit 1; }
auth=$(cat "$state/guest.auth")

export TFAAS_APIHOST=$url TFAAS_AUTH=$auth
for f in examples/*.js; do
  name=$(basename "$f" .js)
  # examples/web*.js are web actions (served without credentials)
  web=false
  case $name in web*) web=true ;; esac
  "$tfaas" action update "$name" "$f" --web "$web" >/dev/null
done
# update creates what is missing, so a second `make run` on the same state works
"$tfaas" trigger update greet -p name trigger >/dev/null
"$tfaas" rule update greet-hello greet hello >/dev/null

cat <<EOT

tfaas is running at $url (state in $state/, sim TEE). Deployed: $(cd examples && ls *.js | sed 's/\.js$//' | tr '\n' ' ')

  export TFAAS_APIHOST=$url
  export TFAAS_AUTH=$auth
  $tfaas action invoke hello -p name Ada --result

Fire the trigger greet: its rule greet-hello runs hello with the payload
over the trigger's parameters, and the activations show both:

  $tfaas trigger fire greet -p name Grace
  $tfaas activation list

or with curl, or any OpenWhisk client (apihost $url, api_key as above):

  curl -s -u '$auth' -H 'content-type: application/json' \\
    -X POST '$url/api/v1/namespaces/_/actions/hello?blocking=true&result=true' -d '{"name":"Ada"}'

and the web action webhello, without credentials:

  curl -s '$url/api/v1/web/guest/default/webhello?name=Ada'

The web console (sign in with the TFAAS_AUTH above): $url/console
Prometheus metrics (from this host): $url/metrics

Press Ctrl-C to stop.
EOT
wait $server

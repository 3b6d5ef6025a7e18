#!/usr/bin/env bash
# End-to-end test of the admin API with an independent client: openapi-python-client (PyPI)
# generates a Python package from the OpenAPI document tessera publishes, and check.py drives a
# real server with it (token by client_credentials, create a user, read them back, read the audit
# event). Needs python3 with venv; installs the generator into a virtualenv of its own.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

venv="${ADMIN_API_CLIENT_VENV:-target/admin-api-client-venv}"
if [ ! -x "$venv/bin/openapi-python-client" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q openapi-python-client==0.29.1
fi

cargo build -q --bin tessera
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export TESSERA_DATA_DIR="$work/data" TESSERA_LISTEN="127.0.0.1:$port" TESSERA_PUBLIC_URL="http://127.0.0.1:$port"
export TESSERA_THEMES_DIR="$PWD/themes"
unset TESSERA_DATABASE_URL
tessera=target/debug/tessera

$tessera tenant create acme --name "Acme Clinic" >/dev/null 2>&1
secret=$($tessera client create --tenant acme --client-id backoffice \
  --redirect-uri https://backoffice.example.org/unused \
  --scope admin.users.read --scope admin.users.write --scope admin.audit.read |
  sed -n 's/^client secret (shown only now, store it safely): //p')
$tessera serve >"$work/serve.log" 2>&1 &
pid=$!
issuer="http://127.0.0.1:$port/t/acme"
for _ in $(seq 1 100); do
  if curl -sf "$issuer/admin/v1/openapi.json" -o "$work/openapi.json"; then break; fi
  sleep 0.1
done

venv=$(cd "$venv" && pwd)
(cd "$work" && "$venv/bin/openapi-python-client" generate --path openapi.json \
  --output-path client --meta none >/dev/null)
PYTHONPATH="$work/client/.." "$venv/bin/python" tests/admin_api_client/check.py "$issuer" backoffice "$secret"

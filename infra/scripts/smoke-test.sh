#!/usr/bin/env bash
# Smoke test of a deployed SCIM endpoint: do what Entra ID's "Test Connection" does with a freshly
# generated tenant token. Run from the repository root with the admin CLI's settings exported
# (SCIM_STORAGE_ENDPOINT + SCIM_PUBLIC_BASE_URL: the `azd env get-values` / deployment outputs).
#   SCIM_SMOKE_TENANT_ID set   -> rotate that dedicated tenant's token (no tenant pile-up)
#   SCIM_SMOKE_TENANT_ID unset -> create a throwaway tenant "smoke-<UTC time>"
# Then GET <Tenant URL>/Users?filter=userName eq "<random uuid>" must answer 200 with totalResults 0.
# Retries cover role assignments still propagating and the app's first cold start.
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root: tools.admin is run as a module

PYTHON=${PYTHON:-python3}
ATTEMPTS=${SMOKE_ATTEMPTS:-30}
DELAY=${SMOKE_DELAY_SECONDS:-10}

admin_json() {
  local attempt output
  for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    if output=$("$PYTHON" -m tools.admin "$@" --json); then
      printf '%s\n' "$output"
      return 0
    fi
    echo "admin CLI failed (attempt $attempt/$ATTEMPTS)" >&2
    if ((attempt < ATTEMPTS)); then sleep "$DELAY"; fi
  done
  return 1
}

field() {  # field NAME < json
  "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

if [[ -n "${SCIM_SMOKE_TENANT_ID:-}" ]]; then
  credentials=$(admin_json tenant token --tenant "$SCIM_SMOKE_TENANT_ID")
else
  credentials=$(admin_json tenant create --name "smoke-$(date -u +%Y%m%dT%H%M%SZ)")
fi
tenant_url=$(field tenantUrl <<<"$credentials")
token=$(field token <<<"$credentials")
if [[ -n "${GITHUB_ACTIONS:-}" ]]; then
  echo "::add-mask::$token"
fi

user_name=$("$PYTHON" -c 'import uuid; print(uuid.uuid4())')
url="$tenant_url/Users?filter=userName+eq+%22$user_name%22"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  status=$(curl -sS -o "$body" -w '%{http_code}' -H "Authorization: Bearer $token" "$url") || status=000
  if [[ "$status" == 200 ]]; then break; fi
  echo "GET $url -> $status (attempt $attempt/$ATTEMPTS)" >&2
  if ((attempt < ATTEMPTS)); then sleep "$DELAY"; fi
done
if [[ "$status" != 200 ]]; then
  echo "smoke test FAILED: $url answered $status" >&2
  head -c 2000 "$body" >&2 || true
  exit 1
fi
total=$(field totalResults <"$body")
if [[ "$total" != 0 ]]; then
  echo "smoke test FAILED: expected totalResults 0 for a random userName, got $total" >&2
  exit 1
fi
echo "smoke test passed: $tenant_url answers Test Connection's probe (200, totalResults 0)"

#!/usr/bin/env bash
# The cutover plan's sequential smoke script, as the plan describes it (ils-target-profile.md,
# "The plan's own scripts"): one curl per check, in order. The baseline for smoke_vs_curl.py.
#
# usage: plan_smoke.sh BASE_URL [CA_BUNDLE]    exit 0 only when no check failed
set -u
BASE_URL="${1:?usage: plan_smoke.sh BASE_URL [CA_BUNDLE]}"
CURL=(curl -s --max-time 10)
[ -n "${2:-}" ] && CURL+=(--cacert "$2")
PASSED=0
FAILED=0

check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $name"; fi
}
status_of() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@"; }
ms_of() { "${CURL[@]}" -o /dev/null -w '%{time_total}' "$@" | awk '{printf "%d", $1 * 1000}'; }
header_of() { "${CURL[@]}" -o /dev/null -D - "$@" | tr -d '\r'; }

HEALTH_BODY=$("${CURL[@]}" "$BASE_URL/api/health")
check "/api/health answers 200" test "$(status_of "$BASE_URL/api/health")" = 200
check "/api/health reports ok" grep -q '"status":"ok"' <<<"$HEALTH_BODY"
check "/api/health within 1000 ms" test "$(ms_of "$BASE_URL/api/health")" -le 1000
for path in /api/patients /api/orders /api/admin/users; do
  check "$path answers 401 without a token" test "$(status_of "$BASE_URL$path")" = 401
done
check "login without body answers 400" test "$(status_of -X POST -H 'Content-Type: application/json' "$BASE_URL/api/auth/jwt/login")" = 400
check "/ answers 200" test "$(status_of "$BASE_URL/")" = 200
check "/favicon.ico answers 200" test "$(status_of "$BASE_URL/favicon.ico")" = 200
check "unknown API path answers 404" test "$(status_of "$BASE_URL/api/cutover-probe-does-not-exist")" = 404
check "DELETE /api/health is not allowed" test "$(status_of -X DELETE "$BASE_URL/api/health")" != 200
HEADERS=$(header_of "$BASE_URL/")
check "X-Frame-Options is sent" grep -qi '^x-frame-options:' <<<"$HEADERS"
check "X-Content-Type-Options is sent" grep -qi '^x-content-type-options:' <<<"$HEADERS"
CORS=$(header_of -H 'Origin: https://evil.example' "$BASE_URL/api/health")
check "a foreign Origin is not allowed" bash -c '! grep -qi "^access-control-allow-origin: https://evil.example" <<<"$1"' _ "$CORS"
check "/api/health within 500 ms" test "$(ms_of "$BASE_URL/api/health")" -le 500
check "/ within 2000 ms" test "$(ms_of "$BASE_URL/")" -le 2000
check "monitoring endpoint /metrics answers 200" test "$(status_of "$BASE_URL/metrics")" = 200

echo "checks: $((PASSED + FAILED)) passed: $PASSED failed: $FAILED"
[ "$FAILED" -eq 0 ]

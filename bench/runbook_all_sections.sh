#!/usr/bin/env bash
# Every automated check of sections 1 to 7 of post-ga-runbook-v3.7.0.md, with the runbook's own
# commands (git, curl, jq, psql, docker), run one after the other as a release manager pastes them,
# each judged by the runbook's PASS criteria. Besides the commands' output it prints one line per
# checklist row it judges, for the bench to compare with checklist.json:
#
#   ROW 2.1 PASS
#   ROW 6.1 FAIL latest migration 039 < 041
#
# Targets (environment): STAGING_URL, ORIGIN (the repository holding the tags), DATABASE_URL
# (read-only), PROMETHEUS_URL, STAGING_EMAIL, STAGING_PASSWORD; optional: SENTRY_URL with
# SENTRY_TOKEN, SENTRY_ORG, SENTRY_PROJECT (7.1 is not judged without SENTRY_URL); DOCKER_HOST
# with LOG_CONTAINER (7.3 is not judged without both). The release: RELEASE_VERSION (3.7.0),
# RELEASE_TAG (v3.7.0), RELEASE_COMMIT (87b4a59), MIN_MIGRATION (041), RBAC_CHECKS (13),
# PROMETHEUS_JOB (solvereign-api), DB_NAME (solvereign).
# 4.4 (the UI login) is manual in the runbook and has no shell form. Exit status: 0 when every
# judged row passed, 1 otherwise, 2 when a target is missing.
set -u
for name in STAGING_URL ORIGIN DATABASE_URL PROMETHEUS_URL STAGING_EMAIL STAGING_PASSWORD; do
  if [ -z "${!name:-}" ]; then
    echo "runbook_all_sections.sh: set $name (see the header of this script)" >&2
    exit 2
  fi
done
RELEASE_VERSION=${RELEASE_VERSION:-3.7.0}
RELEASE_TAG=${RELEASE_TAG:-v3.7.0}
RELEASE_COMMIT=${RELEASE_COMMIT:-87b4a59}
MIN_MIGRATION=${MIN_MIGRATION:-041}
RBAC_CHECKS=${RBAC_CHECKS:-13}
PROMETHEUS_JOB=${PROMETHEUS_JOB:-solvereign-api}
DB_NAME=${DB_NAME:-solvereign}
SENTRY_URL=${SENTRY_URL:-}
SENTRY_ORG=${SENTRY_ORG:-solvereign}
SENTRY_PROJECT=${SENTRY_PROJECT:-solvereign-api}
LOG_CONTAINER=${LOG_CONTAINER:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
failed=0

# row ID PASS|FAIL [reason]
row() {
  [ "$2" = PASS ] || failed=1
  echo "ROW $1 $2${3:+ $3}"
}
# http_code FILE: the code that `-w "\nHTTP_CODE:%{http_code}\n"` appended
http_code() { sed -n 's/^HTTP_CODE://p' "$1" | tail -n 1; }
# body FILE: what came before it
body() { sed '/^HTTP_CODE:/d' "$1"; }
# header FILE NAME: the first value of a header in a `curl -sI`/`-D` dump
header() { grep -i "^$2:" "$1" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//; s/ *$//'; }
# one_of VALUE CHOICE...
one_of() {
  local value=$1 choice
  shift
  for choice in "$@"; do [ "$value" = "$choice" ] && return 0; done
  return 1
}
# query PROMQL: the runbook's PromQL through the HTTP API, JSON answer on stdout
query() { curl -s "${PROMETHEUS_URL}/api/v1/query" --data-urlencode "query=$1"; }

# 1) Release fingerprint ---------------------------------------------------------------------
# 1.1 Verify tag on origin
git init -q --bare repo.git
git --git-dir repo.git remote add origin "$ORIGIN"
git --git-dir repo.git fetch -q origin --tags
git --git-dir repo.git show "$RELEASE_TAG" --no-patch | tee tag.txt
tag_commit=$(sed -n 's/^commit \([0-9a-f]*\).*/\1/p' tag.txt | head -n 1)
if [ ! -s tag.txt ]; then
  row 1.1 FAIL "tag $RELEASE_TAG not found on origin"
elif [ "$(head -n 1 tag.txt)" != "tag $RELEASE_TAG" ]; then
  row 1.1 FAIL "tag $RELEASE_TAG is not annotated"
elif [ "${tag_commit#"$RELEASE_COMMIT"}" = "$tag_commit" ]; then
  row 1.1 FAIL "tag points to ${tag_commit:0:12}, not $RELEASE_COMMIT"
elif ! sed '/^commit /,$d' tag.txt | grep -qF "GA Release: SOLVEREIGN v${RELEASE_VERSION}"; then
  row 1.1 FAIL "tag message lacks 'GA Release: SOLVEREIGN v${RELEASE_VERSION}'"
else
  row 1.1 PASS
fi

# 1.2 Verify deployed version (staging)
curl -s "${STAGING_URL}/api/health" | jq '.version' | tee version.txt
version=$(jq -r '. // empty' version.txt 2>/dev/null)
if [ -n "$version" ] && { [ "$version" = "$RELEASE_VERSION" ] || [ "${version#"$RELEASE_COMMIT"}" != "$version" ]; }; then
  row 1.2 PASS
else
  row 1.2 FAIL "version ${version:-missing}"
fi

# 2) Health ----------------------------------------------------------------------------------
# 2.1 Staging health
: > health.txt
# The runbook's own form (A && B || C): B (echo | tee) does not fail.
# shellcheck disable=SC2015
curl -sf "${STAGING_URL}/api/health" && echo "PASS" | tee -a health.txt || echo "FAIL" | tee -a health.txt
# shellcheck disable=SC2015
curl -sf "${STAGING_URL}/api/health/ready" && echo "PASS" | tee -a health.txt || echo "FAIL" | tee -a health.txt
# shellcheck disable=SC2015
curl -sf "${STAGING_URL}/api/health/live" && echo "PASS" | tee -a health.txt || echo "FAIL" | tee -a health.txt
if [ "$(grep -c "^PASS$" health.txt)" = 3 ]; then
  row 2.1 PASS
else
  row 2.1 FAIL "not all three endpoints answered 200"
fi

# 3) Security headers ------------------------------------------------------------------------
# 3.1 Response headers
curl -sI "${STAGING_URL}/api/health" | tee headers.txt \
  | grep -iE "^(strict-transport|x-content-type|x-frame|content-security|x-xss)"
hsts=$(header headers.txt strict-transport-security)
hsts_age=$(sed -n 's/.*max-age="\{0,1\}\([0-9]*\).*/\1/ip' <<<"$hsts")
csp=$(header headers.txt content-security-policy)
problems=()
if [ -z "$hsts_age" ] || [ "$hsts_age" -lt 31536000 ] || ! grep -qi includesubdomains <<<"$hsts"; then
  problems+=("Strict-Transport-Security '$hsts'")
fi
[ "$(header headers.txt x-content-type-options | tr '[:upper:]' '[:lower:]')" = nosniff ] \
  || problems+=("X-Content-Type-Options")
one_of "$(header headers.txt x-frame-options | tr '[:lower:]' '[:upper:]')" DENY SAMEORIGIN \
  || problems+=("X-Frame-Options")
if ! grep -qi "default-src" <<<"$csp" || grep -qiE "'unsafe-(inline|eval)'" <<<"$csp"; then
  problems+=("Content-Security-Policy '$csp'")
fi
[ "$(header headers.txt x-xss-protection | tr -d ' ')" = "1;mode=block" ] || problems+=("X-XSS-Protection")
if [ "${#problems[@]}" = 0 ]; then
  row 3.1 PASS
else
  row 3.1 FAIL "${problems[*]}"
fi

# 3.2 Cookie security: the runbook's failed login, then the cookies of the valid login (4.1)
curl -sI "${STAGING_URL}/api/auth/login" -X POST \
  -H "Content-Type: application/json" \
  -d '{"email":"test@example.com","password":"wrong"}' \
  | grep -i "set-cookie" | tee cookies_failed.txt

# 4) Auth/login smoke ------------------------------------------------------------------------
# 4.1 API login (valid credentials); -D keeps the headers for 3.2
curl -s "${STAGING_URL}/api/auth/login" \
  -X POST \
  -H "Content-Type: application/json" \
  -d "{\"email\":\"${STAGING_EMAIL}\",\"password\":\"${STAGING_PASSWORD}\"}" \
  -c cookies.txt -D login_headers.txt \
  -w "\nHTTP_CODE:%{http_code}\n" | tee login.txt
if [ "$(http_code login.txt)" = 200 ] && body login.txt | jq -e "has(\"user_id\") and has(\"role\")" >/dev/null 2>&1; then
  row 4.1 PASS
else
  row 4.1 FAIL "HTTP $(http_code login.txt), or no user_id and role"
fi

grep -i "^set-cookie:" login_headers.txt | cat - cookies_failed.txt > set_cookies.txt
cookie_problems=()
while IFS= read -r line; do
  name=$(sed 's/^[^:]*: *//; s/=.*//' <<<"$line")
  grep -qi "; *httponly" <<<"$line" || cookie_problems+=("$name without HttpOnly")
  grep -qiE "; *samesite=(lax|strict)" <<<"$line" || cookie_problems+=("$name without SameSite=Lax/Strict")
  grep -qi "; *secure" <<<"$line" || cookie_problems+=("$name without Secure")
done < <(tr -d '\r' < set_cookies.txt)
if [ ! -s set_cookies.txt ]; then
  row 3.2 FAIL "no Set-Cookie to judge"
elif [ "${#cookie_problems[@]}" = 0 ]; then
  row 3.2 PASS
else
  row 3.2 FAIL "${cookie_problems[*]}"
fi

# 4.2 API login (invalid credentials)
curl -s "${STAGING_URL}/api/auth/login" \
  -X POST \
  -H "Content-Type: application/json" \
  -d '{"email":"invalid@example.com","password":"wrongpassword"}' \
  -D invalid_headers.txt \
  -w "\nHTTP_CODE:%{http_code}\n" | tee invalid.txt
if [ "$(http_code invalid.txt)" = 401 ] && ! grep -i "^set-cookie:" invalid_headers.txt | grep -qi session; then
  row 4.2 PASS
else
  row 4.2 FAIL "HTTP $(http_code invalid.txt), or a session cookie was set"
fi

# 4.3 Session validation
curl -s "${STAGING_URL}/api/auth/me" \
  -b cookies.txt \
  -w "\nHTTP_CODE:%{http_code}\n" | tee me.txt
if [ "$(http_code me.txt)" = 200 ] && body me.txt | jq -e ".user_id != null" >/dev/null 2>&1; then
  row 4.3 PASS
else
  row 4.3 FAIL "HTTP $(http_code me.txt), or no user"
fi

# 5) Webhooks --------------------------------------------------------------------------------
# 5.1 SendGrid endpoint
curl -s "${STAGING_URL}/openapi.json" | jq -c '.paths | keys | map(select(contains("sendgrid")))' | tee sendgrid.txt
if [ "$(cat sendgrid.txt)" = "[\"/api/v1/notifications/webhook/sendgrid\"]" ]; then
  row 5.1 PASS
else
  row 5.1 FAIL "routes $(cat sendgrid.txt)"
fi

# 5.2 SendGrid signature (invalid)
curl -s "${STAGING_URL}/api/v1/notifications/webhook/sendgrid" \
  -X POST \
  -H "Content-Type: application/json" \
  -H "X-Twilio-Email-Event-Webhook-Signature: invalid_signature" \
  -H "X-Twilio-Email-Event-Webhook-Timestamp: 1234567890" \
  -d '[{"event":"delivered","email":"test@example.com"}]' \
  -w "\nHTTP_CODE:%{http_code}\n" | tee sendgrid_probe.txt
if one_of "$(http_code sendgrid_probe.txt)" 401 403; then
  row 5.2 PASS
else
  row 5.2 FAIL "HTTP $(http_code sendgrid_probe.txt)"
fi

# 5.3 WhatsApp endpoint
curl -s "${STAGING_URL}/openapi.json" | jq -c '.paths | keys | map(select(contains("whatsapp")))' | tee whatsapp.txt
if [ "$(cat whatsapp.txt)" = "[\"/api/v1/notifications/webhook/whatsapp\"]" ]; then
  row 5.3 PASS
else
  row 5.3 FAIL "routes $(cat whatsapp.txt)"
fi

# 5.4 WhatsApp signature (invalid)
curl -s "${STAGING_URL}/api/v1/notifications/webhook/whatsapp" \
  -X POST \
  -H "Content-Type: application/json" \
  -H "X-Hub-Signature-256: sha256=invalid_signature" \
  -d '{"object":"whatsapp_business_account","entry":[]}' \
  -w "\nHTTP_CODE:%{http_code}\n" | tee whatsapp_probe.txt
if one_of "$(http_code whatsapp_probe.txt)" 401 403; then
  row 5.4 PASS
else
  row 5.4 FAIL "HTTP $(http_code whatsapp_probe.txt)"
fi

# 5.5 Billing webhook
curl -s "${STAGING_URL}/api/billing/webhook" \
  -X POST \
  -H "Content-Type: application/json" \
  -d '{"type":"test"}' \
  -w "\nHTTP_CODE:%{http_code}\n" | tee billing_probe.txt
if one_of "$(http_code billing_probe.txt)" 400 401 403; then
  row 5.5 PASS
else
  row 5.5 FAIL "HTTP $(http_code billing_probe.txt)"
fi

# 6) Database (unaligned output, fields split by |) -----------------------------------------
# 6.1 Migration status
psql "${DATABASE_URL}" -X -A -F '|' -c "SELECT version, name, applied_at FROM schema_migrations ORDER BY version DESC LIMIT 10;" \
  | tee migrations.txt
latest=$(sed -n 2p migrations.txt | cut -d'|' -f1)
without_applied_at=$(sed '1d; /^(/d' migrations.txt | awk -F'|' 'NF >= 3 && $3 == ""' | wc -l)
if [[ "$latest" =~ ^[0-9]+$ ]] && [ "$((10#$latest))" -ge "$((10#$MIN_MIGRATION))" ] && [ "$without_applied_at" = 0 ]; then
  row 6.1 PASS
else
  row 6.1 FAIL "latest migration ${latest:-none} (expected ${MIN_MIGRATION}+), ${without_applied_at} without applied_at"
fi

# 6.2 RLS hardening
psql "${DATABASE_URL}" -X -A -F '|' -c "SELECT * FROM verify_final_hardening();" | tee hardening.txt
checks=$(sed '1d; /^(/d' hardening.txt | grep -c .)
passed=$(sed '1d; /^(/d' hardening.txt | awk -F'|' '$2 == "PASS"' | wc -l)
if [ "$checks" -gt 0 ] && [ "$passed" = "$checks" ]; then
  row 6.2 PASS
else
  row 6.2 FAIL "$passed of $checks checks PASS"
fi

# 6.3 RBAC integrity
psql "${DATABASE_URL}" -X -A -F '|' -c "SELECT * FROM auth.verify_rbac_integrity();" | tee rbac.txt
checks=$(sed '1d; /^(/d' rbac.txt | grep -c .)
passed=$(sed '1d; /^(/d' rbac.txt | awk -F'|' '$2 == "PASS"' | wc -l)
if [ "$checks" = "$RBAC_CHECKS" ] && [ "$passed" = "$checks" ]; then
  row 6.3 PASS
else
  row 6.3 FAIL "$passed of $checks checks PASS (expected all $RBAC_CHECKS)"
fi

# 6.4 Tenant isolation smoke
psql "${DATABASE_URL}" -X -A -t -c "
SET app.current_tenant_id = '999';
SELECT COUNT(*) FROM plans WHERE tenant_id != 999;
" | tee isolation.txt
visible=$(tail -n 1 isolation.txt)
if [ "$visible" = 0 ]; then
  row 6.4 PASS
else
  row 6.4 FAIL "${visible:-no answer} cross-tenant row(s) visible"
fi

# 7) Observability ---------------------------------------------------------------------------
# 7.1 Sentry: level:error in the last hour through the web API (< 10, no new issue)
if [ -n "$SENTRY_URL" ]; then
  auth="Authorization: Bearer ${SENTRY_TOKEN:-}"
  project_id=$(curl -s -H "$auth" "${SENTRY_URL}/api/0/projects/${SENTRY_ORG}/${SENTRY_PROJECT}/" | jq -r '.id // empty')
  curl -s -H "$auth" \
    "${SENTRY_URL}/api/0/organizations/${SENTRY_ORG}/events/?field=count()&query=level:error&statsPeriod=1h&project=${project_id}" \
    | tee sentry_count.txt
  echo
  curl -s -H "$auth" -G "${SENTRY_URL}/api/0/organizations/${SENTRY_ORG}/issues/" \
    --data-urlencode "project=${project_id}" --data-urlencode "query=is:unresolved firstSeen:-1h" \
    --data-urlencode "statsPeriod=1h" | tee sentry_new.txt
  echo
  errors=$(jq -r '.data[0]["count()"] // empty' sentry_count.txt 2>/dev/null)
  new_issues=$(jq -r 'if type == "array" then length else empty end' sentry_new.txt 2>/dev/null)
  if [[ "$errors" =~ ^[0-9]+$ ]] && [ "$errors" -lt 10 ] && [ "$new_issues" = 0 ]; then
    row 7.1 PASS
  else
    row 7.1 FAIL "${errors:-unknown} error(s), ${new_issues:-unknown} new issue(s)"
  fi
fi

# 7.2 Prometheus: P95 < 2s, error rate < 1%, DB connections < 80% of max connections
query "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket{job=\"${PROMETHEUS_JOB}\"}[5m]))" | tee p95.json
echo
query "sum(rate(http_requests_total{job=\"${PROMETHEUS_JOB}\",status=~\"5..\"}[5m])) / sum(rate(http_requests_total{job=\"${PROMETHEUS_JOB}\"}[5m])) * 100" \
  | tee errors.json
echo
query "pg_stat_activity_count{datname=\"${DB_NAME}\"}" | tee connections.json
echo
query "pg_settings_max_connections" | tee max_connections.json
echo
numbers='[.data.result[].value[1] | select(. != "NaN") | if . == "+Inf" then infinite else tonumber end]'
problems=()
jq -e ".status == \"success\" and ($numbers | length > 0 and all(. < 2))" p95.json >/dev/null 2>&1 \
  || problems+=("P95 not < 2s")
jq -e ".status == \"success\" and ($numbers | all(. < 1))" errors.json >/dev/null 2>&1 \
  || problems+=("5xx rate not < 1%")
in_use=$(jq -r "if .status == \"success\" and (.data.result | length > 0) then $numbers | add else empty end" \
  connections.json 2>/dev/null)
max_connections=$(jq -r "$numbers | max // empty" max_connections.json 2>/dev/null)
awk -v used="${in_use:-x}" -v max="${max_connections:-x}" \
  'BEGIN { exit !(used ~ /^[0-9.]+$/ && max ~ /^[0-9.]+$/ && max > 0 && used * 100 / max < 80) }' \
  || problems+=("DB connections ${in_use:-?} of ${max_connections:-?} not < 80%")
if [ "${#problems[@]}" = 0 ]; then
  row 7.2 PASS
else
  row 7.2 FAIL "${problems[*]}"
fi

# 7.3 Log sampling (on the docker host in DOCKER_HOST)
if [ -n "${DOCKER_HOST:-}" ] && [ -n "$LOG_CONTAINER" ]; then
  docker logs "$LOG_CONTAINER" --since 10m > container.log 2>&1
  logs_status=$?
  grep -i "error\|exception\|critical" container.log | head -20 | tee log_errors.txt
  if [ "$logs_status" = 0 ] && [ ! -s log_errors.txt ]; then
  row 7.3 PASS
else
  row 7.3 FAIL "$(wc -l < log_errors.txt) error line(s), docker logs exit $logs_status"
fi
fi

exit "$failed"

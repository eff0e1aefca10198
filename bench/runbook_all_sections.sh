#!/usr/bin/env bash
# The runbook's own commands for sections 1 to 7 as a release manager pastes them
# (post-ga-runbook-v3.7.0.md), against STAGING_URL, ORIGIN, DATABASE_URL, PROMETHEUS_URL and the
# Sentry API in SENTRY_URL. Section 4.4 (browser) and 7.3 (docker logs) have no shell form here.
set -u
: "${STAGING_URL:?}" "${ORIGIN:?}" "${DATABASE_URL:?}" "${PROMETHEUS_URL:?}" "${SENTRY_URL:?}" "${SENTRY_TOKEN:?}"
: "${STAGING_EMAIL:?}" "${STAGING_PASSWORD:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# 1) Release fingerprint
git clone -q --bare "$ORIGIN" repo.git
git --git-dir repo.git show v3.7.0 --no-patch
curl -s "${STAGING_URL}/api/health" | jq '.version'
# 2) Health
for path in /api/health /api/health/ready /api/health/live; do
  curl -sf "${STAGING_URL}${path}" && echo "PASS" || echo "FAIL"
done
# 3) Security headers and cookies
curl -sI "${STAGING_URL}/api/health" | grep -iE "^(strict-transport|x-content-type|x-frame|content-security|x-xss)"
curl -sI "${STAGING_URL}/api/auth/login" -X POST -H "Content-Type: application/json" \
  -d '{"email":"test@example.com","password":"wrong"}' | grep -i "set-cookie"
# 4) Auth smoke
curl -s "${STAGING_URL}/api/auth/login" -X POST -H "Content-Type: application/json" \
  -d "{\"email\":\"${STAGING_EMAIL}\",\"password\":\"${STAGING_PASSWORD}\"}" -c cookies.txt -w "\nHTTP_CODE:%{http_code}\n"
curl -s "${STAGING_URL}/api/auth/login" -X POST -H "Content-Type: application/json" \
  -d '{"email":"invalid@example.com","password":"wrongpassword"}' -w "\nHTTP_CODE:%{http_code}\n"
curl -s "${STAGING_URL}/api/auth/me" -b cookies.txt -w "\nHTTP_CODE:%{http_code}\n"
# 5) Webhooks
curl -s "${STAGING_URL}/openapi.json" | jq '.paths | keys | map(select(contains("sendgrid")))'
curl -s "${STAGING_URL}/api/v1/notifications/webhook/sendgrid" -X POST -H "Content-Type: application/json" \
  -H "X-Twilio-Email-Event-Webhook-Signature: invalid_signature" -H "X-Twilio-Email-Event-Webhook-Timestamp: 1234567890" \
  -d '[{"event":"delivered","email":"test@example.com"}]' -w "\nHTTP_CODE:%{http_code}\n"
curl -s "${STAGING_URL}/openapi.json" | jq '.paths | keys | map(select(contains("whatsapp")))'
curl -s "${STAGING_URL}/api/v1/notifications/webhook/whatsapp" -X POST -H "Content-Type: application/json" \
  -H "X-Hub-Signature-256: sha256=invalid_signature" -d '{"object":"whatsapp_business_account","entry":[]}' \
  -w "\nHTTP_CODE:%{http_code}\n"
curl -s "${STAGING_URL}/api/billing/webhook" -X POST -H "Content-Type: application/json" -d '{"type":"test"}' \
  -w "\nHTTP_CODE:%{http_code}\n"
# 6) Database
psql "${DATABASE_URL}" -c "SELECT version, name, applied_at FROM schema_migrations ORDER BY version DESC LIMIT 10;"
psql "${DATABASE_URL}" -c "SELECT * FROM verify_final_hardening();"
psql "${DATABASE_URL}" -c "SELECT * FROM auth.verify_rbac_integrity();"
psql "${DATABASE_URL}" -c "SET app.current_tenant_id = '999'; SELECT COUNT(*) FROM plans WHERE tenant_id != 999;"
# 7) Observability
curl -s -H "Authorization: Bearer ${SENTRY_TOKEN}" \
  "${SENTRY_URL}/api/0/projects/solvereign/solvereign-api/" >/dev/null
curl -s -H "Authorization: Bearer ${SENTRY_TOKEN}" \
  "${SENTRY_URL}/api/0/organizations/solvereign/events/?field=count()&query=level:error&statsPeriod=1h&project=4505012"
for query in \
  'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket{job="solvereign-api"}[5m]))' \
  'sum(rate(http_requests_total{job="solvereign-api",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="solvereign-api"}[5m])) * 100' \
  'pg_stat_activity_count{datname="solvereign"}'; do
  curl -s "${PROMETHEUS_URL}/api/v1/query" --data-urlencode "query=${query}" | jq -c '.data.result'
done

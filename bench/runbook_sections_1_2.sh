#!/usr/bin/env bash
# The runbook's own commands for sections 1 and 2, as a release manager pastes them
# (post-ga-runbook-v3.7.0.md), against the environment in STAGING_URL and the origin in ORIGIN.
set -u
: "${STAGING_URL:?}" "${ORIGIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --bare "$ORIGIN" "$work/repo.git"
# 1.1 Verify tag on origin
git --git-dir "$work/repo.git" fetch -q origin --tags 2>/dev/null || git --git-dir "$work/repo.git" fetch -q "$ORIGIN" --tags
git --git-dir "$work/repo.git" show v3.7.0 --no-patch
# 1.2 Verify deployed version (staging)
curl -s "${STAGING_URL}/api/health" | jq '.version'
# 2.1 Staging health
curl -sf "${STAGING_URL}/api/health" && echo "PASS" || echo "FAIL"
curl -sf "${STAGING_URL}/api/health/ready" && echo "PASS" || echo "FAIL"
curl -sf "${STAGING_URL}/api/health/live" && echo "PASS" || echo "FAIL"

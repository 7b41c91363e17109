#!/usr/bin/env bash
# D3 in CI: `haven audit` on a production-like configuration must PASS (exit 0). Production
# settings, PostgreSQL served as the least-privileged runtime role made by `haven db
# runtime-role`, Redis, a mail relay and a scanner address (the audit checks configuration and
# the app's own answers; it does not need them to be reachable). A throwaway database and role.
set -euo pipefail
cd "$(dirname "$0")/.."

db=haven_ci_self_audit
role=haven_ci_self_audit_app
work=$(mktemp -d)
cleanup() {
  psql -q -h 127.0.0.1 -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS $role" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cleanup
mkdir -p "$work"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"

owner_url="postgres://postgres@127.0.0.1:5432/$db"
umask 077
openssl rand -hex 24 >"$work/app.password"
DATABASE_URL="$owner_url" npx haven migrate >/dev/null
DATABASE_URL="$owner_url" npx haven db runtime-role --role "$role" --password-file "$work/app.password" >/dev/null
openssl rand -base64 32 >"$work/master.key"

HAVEN_ENV=production \
  HAVEN_PUBLIC_URL=https://haven.example.org \
  HAVEN_TRUSTED_PROXIES=127.0.0.1 \
  HAVEN_MASTER_KEY_FILE="$work/master.key" \
  HAVEN_SMTP_URL=smtp://127.0.0.1:2525 \
  HAVEN_CLAMD_URL=tcp://127.0.0.1:3310 \
  HAVEN_DATA_DIR="$work/data" \
  REDIS_URL=redis://127.0.0.1:6379/7 \
  DATABASE_URL="postgres://$role:$(cat "$work/app.password")@127.0.0.1:5432/$db" \
  npx haven audit

#!/usr/bin/env bash
# Start Debian's PostgreSQL and make a scratch database for the tests; prints its URL.
# Exits 1 (printing nothing) when that is not possible here: not root, or no postgresql installed.
set -euo pipefail
if [ "$(id -u)" != "0" ] || ! command -v pg_lsclusters >/dev/null; then
  exit 1
fi
cluster="$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')"
[ -n "$cluster" ] || exit 1
# shellcheck disable=SC2086
pg_ctlcluster $cluster start >/dev/null 2>&1 || true  # already running is fine
for _ in $(seq 30); do
  su postgres -c "pg_isready -q" && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='inferscope'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE USER inferscope WITH PASSWORD 'inferscope'\"" >/dev/null
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='inferscope_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O inferscope inferscope_test"
echo "postgresql+psycopg://inferscope:inferscope@localhost/inferscope_test"

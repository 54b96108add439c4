#!/usr/bin/env bash
# Runs every test of the workspace: `cargo test --workspace`, with the store and HTTP
# contract suites on SQLite and on the PostgreSQL at BANDI_TEST_POSTGRES_URL
# (default: the local server with trust auth), then the browser tests of the public pages
# (e2e/run.sh: Playwright driving Debian's Chromium, axe-core on every page). Fails if
# PostgreSQL cannot be reached, so that its half of the suite is never silently skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export BANDI_TEST_POSTGRES_URL="${BANDI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! command -v pg_isready >/dev/null || ! pg_isready -q -d "$BANDI_TEST_POSTGRES_URL"; then
  echo "PostgreSQL is not reachable at $BANDI_TEST_POSTGRES_URL" >&2
  exit 1
fi
# Each test makes its own bandi_t_* database; drop those left by earlier runs.
psql -qAt -d "$BANDI_TEST_POSTGRES_URL" -c "SELECT datname FROM pg_database WHERE datname LIKE 'bandi\_t\_%'" |
  while read -r db; do psql -q -d "$BANDI_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; done
cargo test --workspace "$@"
./scripts/verify-public.sh
./e2e/run.sh

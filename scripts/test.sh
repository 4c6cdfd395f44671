#!/usr/bin/env bash
# The README's test command: brings Node 24 and the npm dependencies, starts the real services
# (PostgreSQL, MariaDB, Redis, a MongoDB-wire server, chromium), then type-checks, lints and runs jest.
# Extra arguments go to jest, e.g. `scripts/test.sh test/config`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24.sh
source scripts/services.sh
start=$SECONDS
ensure_node_modules
start_services
echo "test: tsc --noEmit" >&2
npx tsc --noEmit -p tsconfig.json
echo "test: eslint and prettier" >&2
npx eslint . --max-warnings=0
npx prettier --check . --log-level=warn
echo "test: jest" >&2
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --ci "$@"
echo "test: done in $((SECONDS - start)) s" >&2

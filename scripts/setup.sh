#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (root): the test bed's Debian
# packages, the npm dependencies (with the pinned Node 26 that npm scripts run on), and the release's
# tools (scripts/binary/tools.sh: rcodesign and krew, built once and cached), and the bench's
# emulated disk (scripts/testbed/slowfs/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/testbed/install-deps.sh
command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
# npm ci only when the lock file changed since the last install: warm runs skip it.
stamp=node_modules/.pvmove-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
# The release and its tests: cross strip for linux-arm64, llvm-strip for darwin, zip for windows,
# qemu-user and arm64 libraries to run the linux-arm64 binary, wine to run the windows one, tmux for
# the terminal test.
release_packages=(binutils-aarch64-linux-gnu llvm zip unzip qemu-user libc6-arm64-cross libstdc++6-arm64-cross
  libatomic1-arm64-cross tmux wine wine64)
missing=()
for p in "${release_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi
# rcodesign needs a recent Rust (cargo), krew Go: without them the rest of the tests still run, and
# the release and the krew e2e test fail saying what is missing.
bash scripts/binary/tools.sh || echo "setup: rcodesign or krew could not be built (see above); npm run release and the krew e2e test need them" >&2
# slowfs, the copy bench's emulated network disk (a FUSE passthrough with a delay per request; Go
# module github.com/hanwen/go-fuse/v2): built once, cached in ~/.cache/kubectl-pvmove/slowfs-<hash>/.
bash scripts/testbed/slowfs/build.sh >/dev/null || echo "setup: slowfs could not be built (see above); npm run bench -- --disks net-... needs it" >&2

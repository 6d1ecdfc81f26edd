#!/usr/bin/env bash
# The release's and the krew test's tools, built once from their sources and cached outside the
# repo, keyed by version (a warm run only checks that the binary is there):
#   rcodesign               ad hoc code signature of the darwin binaries (Rust crate apple-codesign,
#                           from crates.io, without its default features: notarization pulls in the
#                           AWS SDK, and only ad hoc signing is done here):
#                           ~/.cache/kubectl-pvmove/rcodesign-<version>-sign/bin/
#   krew, validate-krew-manifest
#                           krew itself and its manifest linter (Go module sigs.k8s.io/krew, from
#                           the Go module proxy): ~/.cache/kubectl-pvmove/krew-<version>/
#
#   bash scripts/binary/tools.sh                 build what is missing
#   bash scripts/binary/tools.sh path TOOL       build it if missing, print its path
set -euo pipefail

RCODESIGN_VERSION=0.29.0
KREW_VERSION=v0.4.3
cache=${PVMOVE_TOOLS_CACHE:-$HOME/.cache/kubectl-pvmove}

tool_path() {
  case $1 in
    rcodesign) echo "$cache/rcodesign-$RCODESIGN_VERSION-sign/bin/rcodesign" ;;
    krew | validate-krew-manifest) echo "$cache/krew-$KREW_VERSION/$1" ;;
    *) echo "tools: unknown tool $1 (rcodesign, krew, validate-krew-manifest)" >&2 && return 2 ;;
  esac
}

ensure() {
  local bin
  bin=$(tool_path "$1")
  if [ "$1" = rcodesign ]; then
    [ -x "$bin" ] && return 0
  elif [ -x "$(tool_path krew)" ] && [ -x "$(tool_path validate-krew-manifest)" ]; then
    return 0 # both come from one module: built together
  fi
  case $1 in
    rcodesign)
      command -v cargo >/dev/null || { echo "tools: cargo (Rust) is needed to build rcodesign" >&2 && return 1; }
      echo "tools: building rcodesign $RCODESIGN_VERSION (apple-codesign, crates.io; several minutes, once)" >&2
      # Into a temporary root, moved in place when complete: an interrupted build leaves nothing.
      rm -rf "$cache/rcodesign-$RCODESIGN_VERSION-sign.tmp"
      cargo install --quiet --locked --no-default-features apple-codesign --version "$RCODESIGN_VERSION" \
        --root "$cache/rcodesign-$RCODESIGN_VERSION-sign.tmp" >&2
      rm -rf "$cache/rcodesign-$RCODESIGN_VERSION-sign"
      mv "$cache/rcodesign-$RCODESIGN_VERSION-sign.tmp" "$cache/rcodesign-$RCODESIGN_VERSION-sign"
      ;;
    krew | validate-krew-manifest)
      command -v go >/dev/null || { echo "tools: Go is needed to build krew" >&2 && return 1; }
      echo "tools: building krew $KREW_VERSION and validate-krew-manifest (Go module proxy, once)" >&2
      rm -rf "$cache/krew-$KREW_VERSION.tmp"
      GOBIN="$cache/krew-$KREW_VERSION.tmp" go install "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" \
        "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION"
      rm -rf "$cache/krew-$KREW_VERSION"
      mv "$cache/krew-$KREW_VERSION.tmp" "$cache/krew-$KREW_VERSION"
      ;;
  esac
  [ -x "$bin" ] || { echo "tools: $bin was not built" >&2 && return 1; }
}

if [ "${1:-}" = path ]; then
  ensure "${2:?tools.sh path TOOL}" && tool_path "$2"
else
  ensure rcodesign
  ensure krew
fi

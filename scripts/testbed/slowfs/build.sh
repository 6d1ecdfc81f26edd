#!/usr/bin/env bash
# Builds slowfs (the copy bench's emulated network disk, main.go here) from the Go module proxy
# once, cached outside the repo and keyed by a hash of its sources (main.go, go.mod, go.sum), so a
# change of the source builds a new one and a warm run only checks that the binary is there:
#   ~/.cache/kubectl-pvmove/slowfs-<hash>/slowfs
# Prints the binary's path on stdout.
#
#   bash scripts/testbed/slowfs/build.sh
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
cache=${PVMOVE_TOOLS_CACHE:-$HOME/.cache/kubectl-pvmove}
hash=$(cd "$dir" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)
out=$cache/slowfs-$hash
if [ ! -x "$out/slowfs" ]; then
  command -v go >/dev/null || { echo "slowfs: Go is needed to build it (the bench's emulated disks)" >&2 && exit 1; }
  echo "slowfs: building $out/slowfs (github.com/hanwen/go-fuse/v2 from the Go module proxy)" >&2
  mkdir -p "$out"
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" go build -trimpath -ldflags "-s -w" -o "$out/slowfs.tmp" .)
  mv "$out/slowfs.tmp" "$out/slowfs"
fi
echo "$out/slowfs"

#!/usr/bin/env bash
# Packs each built binary (dist/<os>-<arch>/, from `npm run build:binary -- --all`) with LICENSE and
# README.md into dist/release/kubectl-pvmove_v<version>_<os>_<arch>.tar.gz (.zip for windows),
# writes their sha256 sums, and renders the krew manifest: plugin.yaml at the repo root (committed)
# and dist/pvmove.yaml (krew's index wants the file named after metadata.name).
#
#   bash scripts/binary/release.sh [--build] [PLATFORM...]     (default: every dist/<os>-<arch>/)
#   bash scripts/binary/release.sh --archives-only DIR [PLATFORM...]
#                       only the archives and sums, into DIR; no manifest (the e2e test uses this)
#   PVMOVE_RELEASE_URL  where the archives will be downloaded from
#                       (default: the GitHub release of tag v<version>)
#
# Archives are reproducible: fixed order, owner and mtime (the last commit's time), gzip -n.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"

archives_only=""
if [ "${1:-}" = --archives-only ]; then
  archives_only=${2:?--archives-only needs a directory}
  shift 2
fi
if [ "${1:-}" = --build ]; then
  shift
  if [ $# -gt 0 ]; then node scripts/binary/build.mjs "${@/#/--platform=}"; else node scripts/binary/build.mjs --all; fi
fi

version=$(node -p 'require("./package.json").version')
homepage=https://github.com/kubectl-pvmove/kubectl-pvmove
url_base=${PVMOVE_RELEASE_URL:-$homepage/releases/download/v$version}
epoch=$(git log -1 --format=%ct)
out=${archives_only:-dist/release}
platforms=("$@")
if [ ${#platforms[@]} -eq 0 ]; then
  for d in dist/*-*/; do [ -d "$d" ] && platforms+=("$(basename "$d")"); done
fi
[ ${#platforms[@]} -gt 0 ] || { echo "release: no dist/<os>-<arch>/ binaries; run npm run build:binary -- --all" >&2; exit 1; }

if [ -z "$archives_only" ]; then rm -rf "$out"; fi
mkdir -p "$out" && rm -f "$out/checksums.txt"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
platform_yaml=""

for p in "${platforms[@]}"; do
  os=${p%%-*} arch=${p#*-}
  exe=kubectl-pvmove
  [ "$os" = windows ] && exe=kubectl-pvmove.exe
  [ -f "dist/$p/$exe" ] || { echo "release: dist/$p/$exe is missing" >&2; exit 1; }
  rm -rf "${stage:?}"/* && mkdir -p "$stage/$p"
  # cp -L: krew accepts only regular files and directories, never symlinks.
  cp -L "dist/$p/$exe" LICENSE README.md "$stage/$p/"
  chmod 0755 "$stage/$p/$exe" && chmod 0644 "$stage/$p/LICENSE" "$stage/$p/README.md"
  touch -d "@$epoch" "$stage/$p"/*
  name=kubectl-pvmove_v${version}_${os}_${arch}
  if [ "$os" = windows ]; then
    archive=$name.zip
    (cd "$stage/$p" && zip -q -X -9 "$stage/$archive" "$exe" LICENSE README.md)
  else
    archive=$name.tar.gz
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
      -C "$stage/$p" -cf - "$exe" LICENSE README.md | gzip -n -9 >"$stage/$archive"
    # Only regular files (type '-'), and exactly these three.
    types=$(tar -tvzf "$stage/$archive" | cut -c1 | sort -u)
    [ "$types" = "-" ] || { echo "release: $archive holds something other than regular files" >&2; exit 1; }
  fi
  mv "$stage/$archive" "$out/"
  sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
  echo "$sum  $archive" >>"$out/checksums.txt"
  echo "$sum" >"$out/$archive.sha256"
  printf '%s %s %s\n' "$archive" "$(du -m "$out/$archive" | cut -f1) MB" "$sum"
  platform_yaml+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $url_base/$archive
    sha256: $sum
    bin: $exe
"
done

[ -z "$archives_only" ] || exit 0

render() { # render HEADER: the krew manifest on stdout
  cat <<YAML
$1
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: pvmove
spec:
  version: v$version
  homepage: $homepage
  shortDescription: Move a PVC's data to a new PersistentVolume, keeping the claim's name
  description: |
    kubectl pvmove moves the data of a PersistentVolumeClaim to a new PersistentVolume of another
    StorageClass and/or a bigger size, and re-creates the claim under its original name with its
    labels and annotations. Workloads using the claim are scaled down for the copy and back up
    afterwards. Every step is recorded in the cluster, so the same command resumes after any
    failure or interruption.

    Usage:
      kubectl pvmove data --to-class fast -n shop        move claim shop/data to StorageClass fast
      kubectl pvmove data --size 50Gi --dry-run          show the plan to grow it; change nothing
      kubectl pvmove cleanup data -n shop                afterwards: delete the old PV
      kubectl pvmove completion bash|zsh                 shell completion

    Caveats:
    - The workloads that mount the claim are stopped during the copy (downtime).
    - The copy runs in a pod (debian:12-slim by default, --image to change) as root, to keep
      owners and modes; a namespace that enforces the restricted Pod Security Standard blocks it.
    - The old PersistentVolume is kept (reclaim policy Retain) until \`kubectl pvmove cleanup\`.
    - Needs RBAC to read and write PersistentVolumes, PersistentVolumeClaims, Pods, ConfigMaps
      and to scale the owning workloads.
  platforms:
${platform_yaml%$'\n'}
YAML
}

built=$( (dist/linux-amd64/kubectl-pvmove --version || echo "v$version") 2>/dev/null)
render "# krew manifest, rendered by scripts/binary/release.sh from the archives of a real build
# ($built); do not edit by hand (npm run release)." >plugin.yaml
render "# krew manifest for kubectl-pvmove v$version (scripts/binary/release.sh)." >"$out/pvmove.yaml"
cp "$out/pvmove.yaml" dist/pvmove.yaml
echo "wrote plugin.yaml, dist/pvmove.yaml and $out/ (checksums.txt)"

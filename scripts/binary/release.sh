#!/usr/bin/env bash
# The release of one commit (default HEAD): builds its five binaries in a clean git worktree of that
# commit (never from the working tree, whose edits are not in the commit the manifest names), packs
# each with LICENSE and README.md into dist/release/kubectl-pvmove_v<version>_<os>_<arch>.tar.gz
# (.zip for windows), writes their sha256 sums, and renders the krew manifest: plugin.yaml at the
# repo root (committed; it names the commit it was rendered from) and dist/pvmove.yaml (the file
# submitted to krew-index, named after metadata.name, with the GitHub release URLs).
#
#   bash scripts/binary/release.sh [--commit REV] [--out DIR]
#       --out DIR   everything, plugin.yaml included, into DIR; the repo is not touched
#                   (the krew e2e test re-renders the commit plugin.yaml names and compares)
#   bash scripts/binary/release.sh --archives-only DIR [PLATFORM...]
#       only the archives and sums of the binaries already in dist/ (the working tree's build),
#       into DIR; no manifest (the binary e2e test uses this)
#   PVMOVE_RELEASE_URL  where the archives will be downloaded from
#                       (default: the GitHub release of tag v<version>)
#
# A manifest is only written with every platform below: fewer is refused. Archives are
# reproducible: same commit, same bytes (fixed order, owner and mtime: the commit's time; gzip -n;
# binaries built without V8 code cache; darwin signed ad hoc, which has no timestamp).
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/../.."
root=$PWD
export PATH="$root/node_modules/.bin:$PATH"
ALL=(linux-amd64 linux-arm64 darwin-amd64 darwin-arm64 windows-amd64)

archives_only="" commit=HEAD out=""
while [ $# -gt 0 ]; do
  case $1 in
    --archives-only) archives_only=$(cd "$here" && realpath -m "${2:?--archives-only needs a directory}") && shift 2 && break ;;
    --commit) commit=${2:?--commit needs a revision} && shift 2 ;;
    --out) out=$(cd "$here" && realpath -m "${2:?--out needs a directory}") && shift 2 ;;
    --build) echo "release: --build is gone: the release always builds, in a worktree of the commit" >&2 && exit 2 ;;
    *) echo "release: unknown argument $1 (a release has every platform: ${ALL[*]})" >&2 && exit 2 ;;
  esac
done

stage=$(mktemp -d)
wt=""
cleanup() {
  [ -z "$wt" ] || git -C "$root" worktree remove --force "$wt" 2>/dev/null || true
  rm -rf "$stage"
}
trap cleanup EXIT

if [ -n "$archives_only" ]; then
  src=$root
  platforms=("$@")
  if [ ${#platforms[@]} -eq 0 ]; then
    for d in dist/*-*/; do [ -d "$d" ] && platforms+=("$(basename "$d")"); done
  fi
  [ ${#platforms[@]} -gt 0 ] || { echo "release: no dist/<os>-<arch>/ binaries; run npm run build:binary" >&2; exit 1; }
  epoch=$(git log -1 --format=%ct)
  out=$archives_only
else
  rev=$(git rev-parse --verify --quiet "$commit^{commit}") || { echo "release: no commit $commit" >&2; exit 2; }
  platforms=("${ALL[@]}")
  epoch=$(git log -1 --format=%ct "$rev")
  wt=$stage/src
  git worktree add --detach --quiet "$wt" "$rev"
  # The commit's dependencies: this checkout's when its lock file is the same, else its own.
  if git show "$rev:package-lock.json" | cmp -s - package-lock.json && [ -d node_modules ]; then
    ln -s "$root/node_modules" "$wt/node_modules"
  else
    echo "release: $rev has another package-lock.json: npm ci in its worktree" >&2
    (cd "$wt" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  echo "release: building ${ALL[*]} at $(git log -1 --format='%h %s' "$rev" | cut -c1-80)" >&2
  (cd "$wt" && node_modules/.bin/node scripts/binary/build.mjs --all) || {
    echo "release: the build of $rev failed; no manifest written" >&2
    exit 1
  }
  src=$wt
  out=${out:-$root/dist/release}
  rm -rf "$out"
fi
version=$(cd "$src" && node -p 'require("./package.json").version')
homepage=https://github.com/kubectl-pvmove/kubectl-pvmove
url_base=${PVMOVE_RELEASE_URL:-$homepage/releases/download/v$version}

mkdir -p "$out" && rm -f "$out/checksums.txt"
platform_yaml="" packed=()

for p in "${platforms[@]}"; do
  os=${p%%-*} arch=${p#*-}
  exe=kubectl-pvmove
  [ "$os" = windows ] && exe=kubectl-pvmove.exe
  [ -f "$src/dist/$p/$exe" ] || { echo "release: dist/$p/$exe is missing" >&2; [ -n "$archives_only" ] && exit 1; continue; }
  rm -rf "${stage:?}/pack" && mkdir -p "$stage/pack"
  # cp -L: krew accepts only regular files and directories, never symlinks.
  cp -L "$src/dist/$p/$exe" "$src/LICENSE" "$src/README.md" "$stage/pack/"
  chmod 0755 "$stage/pack/$exe" && chmod 0644 "$stage/pack/LICENSE" "$stage/pack/README.md"
  touch -d "@$epoch" "$stage/pack"/*
  name=kubectl-pvmove_v${version}_${os}_${arch}
  if [ "$os" = windows ]; then
    archive=$name.zip
    (cd "$stage/pack" && TZ=UTC zip -q -X -9 "$stage/$archive" "$exe" LICENSE README.md)
  else
    archive=$name.tar.gz
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
      -C "$stage/pack" -cf - "$exe" LICENSE README.md | gzip -n -9 >"$stage/$archive"
    # Only regular files (type '-'), and exactly these three.
    types=$(tar -tvzf "$stage/$archive" | cut -c1 | sort -u)
    [ "$types" = "-" ] || { echo "release: $archive holds something other than regular files" >&2; exit 1; }
  fi
  mv "$stage/$archive" "$out/"
  sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
  echo "$sum  $archive" >>"$out/checksums.txt"
  echo "$sum" >"$out/$archive.sha256"
  printf '%s %s %s\n' "$archive" "$(du -m "$out/$archive" | cut -f1) MB" "$sum"
  packed+=("$p")
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
if [ ${#packed[@]} -ne ${#ALL[@]} ]; then
  echo "release: refusing to write a manifest with ${#packed[@]} of ${#ALL[@]} platforms (${packed[*]:-none}); plugin.yaml is unchanged" >&2
  exit 1
fi

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

built=$("$src/dist/linux-amd64/kubectl-pvmove" --version)
case $built in *"commit ${rev:0:12})") ;; *) echo "release: the binary says $built, not commit ${rev:0:12}" >&2 && exit 1 ;; esac
manifest=${out%/}/plugin.yaml
[ "$out" = "$root/dist/release" ] && manifest=$root/plugin.yaml
render "# krew manifest, rendered by scripts/binary/release.sh from the archives of a real build
# ($built); do not edit by hand (npm run release)." >"$manifest"
render "# krew manifest for kubectl-pvmove v$version (scripts/binary/release.sh)." >"$out/pvmove.yaml"
[ "$out" != "$root/dist/release" ] || cp "$out/pvmove.yaml" "$root/dist/pvmove.yaml"
echo "wrote ${manifest#"$root"/}, $out/pvmove.yaml (for krew-index) and the archives in $out/"

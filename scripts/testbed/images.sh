#!/usr/bin/env bash
# Builds the test bed's images as docker-archive tarballs, cached outside the repo:
# - the pause image, from kubernetes' own pause.c compiled statically;
# - the copy image, under the plugin's default image name, from Debian packages (debootstrap
#   minbase: GNU tar, coreutils, findutils, the same tools as the public image).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$TB_DIR/lib/oci-archive.sh"
mkdir -p "$TB_IMAGES"

pause_tar=$TB_IMAGES/pause-${PAUSE_IMAGE##*:}.tar
if [ ! -s "$pause_tar" ]; then
  log "building $PAUSE_IMAGE"
  src=$(cd "$TB_DIR/gobuild" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  root=$(mktemp -d)
  gcc -Os -static -DVERSION=testbed -o "$root/pause" "$src"
  strip "$root/pause"
  make_image_archive "$root" "$PAUSE_IMAGE" "$pause_tar.tmp" '["/pause"]'
  mv "$pause_tar.tmp" "$pause_tar"; rm -rf "$root"
fi

copy_tar=$TB_IMAGES/copy-$(echo "$COPY_IMAGE" | tr '/:' '__').tar
if [ ! -s "$copy_tar" ]; then
  log "building $COPY_IMAGE with debootstrap (cold: a few minutes)"
  command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/testbed/install-deps.sh"
  root=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$TB_CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$TB_CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $TB_CACHE/debootstrap.log)"; }
  # Slim it the way the public -slim image is slimmed: no apt lists, docs or caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/var/log/*
  make_image_archive "$root" "$COPY_IMAGE" "$copy_tar.tmp" 'null'
  mv "$copy_tar.tmp" "$copy_tar"; rm -rf "$root"
fi
log "images ready in $TB_IMAGES"

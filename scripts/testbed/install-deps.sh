#!/usr/bin/env bash
# Installs the Debian packages the test bed runs on (containerd, runc, CNI plugins, tools to build
# the images, e2fsprogs for the local PVs' filesystems). Quick when everything is already there:
# apt is only asked for what is missing.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

packages=(containerd runc containernetworking-plugins debootstrap iptables openssl jq rsync acl attr
  util-linux mount e2fsprogs iproute2 procps gcc libc6-dev kmod ca-certificates curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "the test bed needs root to install: ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || die "Go is needed to build the test bed's Kubernetes binaries (install golang 1.26+)"
command -v kubectl >/dev/null || log "note: kubectl not found; the test bed builds its own (testbed.sh env puts it on PATH)"

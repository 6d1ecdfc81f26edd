# Packs a root file system directory into a docker-archive tarball that
# `ctr -n k8s.io images import` accepts, named exactly as the kubelet will ask for it.
# No registry exists on the test bed, so every image is made this way. Sourced, never run.

# make_image_archive ROOTFS_DIR IMAGE_NAME OUT_TAR [ENTRYPOINT_JSON]
make_image_archive() {
  local rootfs=$1 name=$2 out=$3 entrypoint=${4:-null}
  local work; work=$(mktemp -d)
  # A fixed mtime and sorted, numeric-owner entries keep the layer reproducible.
  tar --create --file="$work/layer.tar" --directory="$rootfs" --numeric-owner --sort=name \
    --mtime='2024-01-01 00:00:00' --xattrs --acls .
  local diff_id; diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  cat >"$work/config.json" <<JSON
{"architecture":"$(go env GOARCH 2>/dev/null || echo amd64)","os":"linux",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":$entrypoint,"Cmd":null,"WorkingDir":"/"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created_by":"kubectl-pvmove testbed"}]}
JSON
  printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]\n' "$name" >"$work/manifest.json"
  tar --create --file="$out" --directory="$work" manifest.json config.json layer.tar
  rm -rf "$work"
}

// The data a user cares about, as seen on a volume: every entry's type, owner, mode, mtime, link
// count, symlink target and content digest. Two volumes hold the same data when their manifests
// are equal. Computed inside a Pod (what the workload sees) or on the node for hostPath volumes.

/** Shell that prints one manifest line per entry below $1, sorted; runs in the copy image. */
export const MANIFEST_SCRIPT = `
export LC_ALL=C  # printf %q quotes differently per locale
cd "$1"
find . -mindepth 1 -print0 | sort -z | while IFS= read -r -d '' p; do
  t=$(stat -c %F "$p")
  line="$(printf '%q' "$p")|$t|$(stat -c '%u:%g|%a|%h' "$p")"
  case "$t" in
    "regular file"|"regular empty file") line="$line|$(stat -c %Y "$p")|$(stat -c %s "$p")|$(sha256sum <"$p" | cut -d' ' -f1)" ;;
    "symbolic link") line="$line|$(readlink "$p")" ;;
    directory) line="$line|$(stat -c %Y "$p")" ;;
  esac
  echo "$line"
done
echo "ROOT|$(stat -c '%u:%g|%a' .)"
`;

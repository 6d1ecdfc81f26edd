#!/usr/bin/env bash
# Runs the e2e test files against the test bed (KUBECONFIG) in PVMOVE_E2E_JOBS parallel lanes:
# most of an e2e test is waiting for the cluster (pods starting, claims binding), and every test
# works in its own namespace, so files run side by side. Each file is its own mocha process; a lane
# takes the next file when its file ends, the longest files first (a long file started last would
# leave the other lanes idle). Each file's log is printed whole when it ends.
#
#   bash scripts/e2e-lanes.sh [FILE...]     (default: every test/e2e/**/*.test.ts, each once)
#
# Counts go to $PVMOVE_SUMMARY_FILE as "passed failed skipped" lines (scripts/test.sh adds them
# up); without it the script ends with the line `N passed, N failed`. A file whose mocha dies
# before reporting counts as one failure. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# 4 lanes: on the 2-core test bed the same seven files took ~1250 s serially, ~640 s in 3 lanes
# and ~600 s in 4 (other tests shared the cluster: rough figures). Beyond that the CPU is the
# limit: each CLI run costs ~2 s of it, each pod some of the kubelet's.
jobs=${PVMOVE_E2E_JOBS:-4}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "PVMOVE_E2E_JOBS is a number of lanes (1 or more), not '$jobs'"; exit 2; }

# Rough seconds a file took in a 4-lane run of every file on a busy test bed (the lanes print each
# file's seconds at the end: update from there). A file not listed is assumed long, so a new suite
# starts early rather than last.
weight() {
  case $(basename "$1" .test.ts) in
    crash-matrix-*) echo 550 ;;
    preflight) echo 370 ;;
    faults) echo 350 ;;
    safety-writes) echo 270 ;;
    owners) echo 260 ;;
    precopy) echo 250 ;; # 130-160 s alone on a busy test bed
    migrate) echo 230 ;;
    concurrency) echo 210 ;;
    binary) echo 200 ;;
    safety-foreign) echo 190 ;;
    kubeconfig) echo 130 ;;
    noop) echo 110 ;;
    testbed | placement) echo 80 ;;
    local-volumes | block-engine) echo 90 ;; # ~60 s each alone on an idle test bed
    krew) echo 480 ;; # releases a commit first (five binaries): 7-9 min alone on a busy machine
    tty) echo 130 ;;
    *) echo 400 ;;
  esac
}

if [ $# -gt 0 ]; then
  listed=("$@")
else
  shopt -s globstar nullglob
  listed=(test/e2e/**/*.test.ts)
fi
[ ${#listed[@]} -gt 0 ] || { echo "no e2e test files"; exit 1; }
mapfile -t files < <(for f in "${listed[@]}"; do echo "$(weight "$f") $f"; done | sort -k1,1nr -k2,2 | cut -d' ' -f2-)

dir=$(mktemp -d)
declare -A running=() # pid -> index into files
started=() took=()
stop() { # interrupted (e.g. a CI timeout): stop the mocha processes, show how far each file got
  for pid in "${!running[@]}"; do kill -INT "$pid" 2>/dev/null; done # mocha passes it to its child
  wait
  for pid in "${!running[@]}"; do
    i=${running[$pid]}
    echo "=== e2e ${files[i]} (interrupted after $((SECONDS - started[i])) s)"
    cat "$dir/$i.log"
  done
  rm -rf "$dir"
  exit 130
}
trap stop INT TERM

echo "e2e: ${#files[@]} files in $jobs lanes"
t0=$SECONDS next=0 failed=0
while [ "$next" -lt ${#files[@]} ] || [ ${#running[@]} -gt 0 ]; do
  while [ "$next" -lt ${#files[@]} ] && [ ${#running[@]} -lt "$jobs" ]; do
    PVMOVE_SUMMARY_FILE="$dir/$next.sum" mocha --timeout 900000 "${files[next]}" >"$dir/$next.log" 2>&1 &
    running[$!]=$next
    started[next]=$SECONDS
    next=$((next + 1))
  done
  pid=''
  wait -n -p pid
  [ -n "$pid" ] || continue
  i=${running[$pid]}
  unset "running[$pid]"
  took[i]=$((SECONDS - started[i]))
  echo
  echo "=== e2e ${files[i]} (${took[i]} s)"
  cat "$dir/$i.log"
  if [ -s "$dir/$i.sum" ]; then
    cat "$dir/$i.sum" >>"$dir/all"
  else
    echo "FAILED: ${files[i]} did not run to the end"
    echo "0 1 0" >>"$dir/all"
  fi
done

echo
echo "e2e: $((SECONDS - t0)) s in $jobs lanes; each file's seconds, in the order started:"
for i in "${!files[@]}"; do printf '  %5d  %s\n' "${took[i]}" "${files[i]}"; done

passed=0
while read -r p f _s; do passed=$((passed + p)); failed=$((failed + f)); done <"$dir/all"
if [ -n "${PVMOVE_SUMMARY_FILE:-}" ]; then
  cat "$dir/all" >>"$PVMOVE_SUMMARY_FILE"
else
  echo
  echo "$passed passed, $failed failed"
fi
rm -rf "$dir"
[ "$failed" -eq 0 ]

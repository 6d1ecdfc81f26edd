#!/usr/bin/env bash
# Runs a kubectl-pvmove binary many times and counts the runs that do not exit: the check behind
# the runtime flag --single-threaded (scripts/binary/runtime-flags.mjs, docs/binary.md). The real
# CLI is run (not the build's precomputed --help text), so V8 compiles the bundle and collects
# garbage as a real run does; a run that has not exited after 10 s is a hang: the threads' state
# and, with gdb, their stacks go to the report, then it is killed (by its pid).
#
#   bash scripts/binary/exit-soak.sh [--runs N] [--jobs J] [--out DIR] BINARY [ARGS...]
#   (ARGS default: cleanup --help)
#
# Prints one line `exit-soak runs=N hung=H failed=F seconds=S binary=...`; hung stacks in DIR.
set -uo pipefail

runs=2000 jobs=2 out=${TMPDIR:-/tmp}/pvmove-exit-soak
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: exit-soak.sh [--runs N] [--jobs J] [--out DIR] BINARY [ARGS...]" >&2; exit 2; }
binary=$(realpath "$1"); shift
args=("$@"); [ ${#args[@]} -gt 0 ] || args=(cleanup --help)
mkdir -p "$out"
# The binary's switch to its real CLI (docs/binary.md, "Checking by hand").
echo 'globalThis.__PVMOVE_REAL_CLI__ = true;' > "$out/real-cli.cjs"

# dump PID FILE: what every thread of a hung run waits on.
dump() {
  local pid=$1 file=$2 t
  {
    echo "# hung run: pid $pid, $(date -u +%FT%TZ), $binary ${args[*]}"
    for t in /proc/"$pid"/task/*; do
      echo "## thread $(basename "$t") $(cat "$t/comm" 2>/dev/null) state=$(awk '{print $3}' "$t/stat" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null)"
    done
    if command -v gdb > /dev/null; then
      timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(Thread|#)'
    fi
  } > "$file"
}

# worker J: its share of the runs; prints "hung failed".
worker() {
  local j=$1 n=$2 i pid rc hung=0 failed=0 waited
  for ((i = 1; i <= n; i++)); do
    NODE_OPTIONS="--require $out/real-cli.cjs" "$binary" "${args[@]}" > /dev/null 2>&1 &
    pid=$!
    waited=0
    while kill -0 "$pid" 2> /dev/null && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2> /dev/null; then
      hung=$((hung + 1))
      dump "$pid" "$out/hang-$j-$i.txt"
      kill -KILL "$pid" 2> /dev/null
      wait "$pid" 2> /dev/null
    else
      wait "$pid"; rc=$?
      [ "$rc" = 0 ] || failed=$((failed + 1))
    fi
  done
  echo "$hung $failed"
}

started=$(date +%s)
for ((j = 1; j <= jobs; j++)); do
  worker "$j" $(((runs + jobs - j) / jobs)) > "$out/worker-$j" &
done
wait
hung=0 failed=0
for ((j = 1; j <= jobs; j++)); do
  read -r h f < "$out/worker-$j"
  hung=$((hung + h)) failed=$((failed + f))
done
echo "exit-soak runs=$runs hung=$hung failed=$failed seconds=$(($(date +%s) - started)) binary=$binary"
[ "$hung" = 0 ]

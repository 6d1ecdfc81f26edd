# Starting and stopping the test bed's processes. Each process we start gets a pid file; we only
# ever stop a pid read from one of our pid files, and only after checking that the pid still runs
# the binary we started (a pid may have been reused after a crash). Sourced, never run.

# start_component NAME BINARY ARGS... : runs it detached, logs to $TB_LOGS/NAME.log.
start_component() {
  local name=$1; shift
  mkdir -p "$TB_RUN" "$TB_LOGS"
  setsid "$@" >>"$TB_LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$TB_RUN/$name.pid"
  echo "$1" >"$TB_RUN/$name.exe"
}

# component_pid NAME : prints the pid if that component runs (and is ours), else fails.
component_pid() {
  local name=$1 pid exe
  [ -s "$TB_RUN/$name.pid" ] || return 1
  pid=$(cat "$TB_RUN/$name.pid"); exe=$(cat "$TB_RUN/$name.exe" 2>/dev/null || true)
  [ -d "/proc/$pid" ] || return 1
  [ -z "$exe" ] || [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$exe")" ] || return 1
  echo "$pid"
}

# stop_pid PID [SECONDS] : TERM, wait, then KILL.
stop_pid() {
  local pid=$1 wait_s=${2:-15} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < wait_s * 10; i++)); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
}

stop_component() {
  local name=$1 pid
  if pid=$(component_pid "$name"); then log "stopping $name (pid $pid)"; stop_pid "$pid"; fi
  rm -f "$TB_RUN/$name.pid" "$TB_RUN/$name.exe"
}

# Prints a failed component's name and the tail of its log, then exits.
fail_component() {
  local name=$1 why=$2
  log "ERROR: $name: $why"
  if [ -s "$TB_LOGS/$name.log" ]; then
    echo "----- last 40 lines of $TB_LOGS/$name.log -----" >&2
    tail -n 40 "$TB_LOGS/$name.log" >&2
    echo "-----" >&2
  fi
  exit 1
}

# wait_for NAME SECONDS CMD... : polls CMD every half second while NAME keeps running.
wait_for() {
  local name=$1 secs=$2 i; shift 2
  for ((i = 0; i < secs * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    component_pid "$name" >/dev/null || fail_component "$name" "exited while starting"
    sleep 0.5
  done
  fail_component "$name" "not ready after ${secs}s"
}

# shellcheck shell=bash
# procs.sh — start, record and stop the test bed's processes, strictly by PID.
#
# Every process the library starts goes through bed_spawn, which appends lines to the bed's process
# file: "WRAPPER_PID WRAPPER_START CMD_PID CMD_START NAME NS" (CMD_* "-" until the command's PID is
# known; a wrapper may then have a second, complete line). The start times (field 22 of
# /proc/PID/stat) are kept so that a recycled PID is never signalled by mistake. Nothing here ever
# looks a process up by its name.
#
# Sourced by bed.sh; safe under `set -u` and `set -e` callers (functions return status, never exit).

[ -n "${_BED_PROCS_LOADED:-}" ] && return 0
_BED_PROCS_LOADED=1

# Upper bound on the life of anything started through bed_spawn: a safety net for the case where the
# test shell is killed with SIGKILL and no trap runs. Long benchmarks may raise it.
: "${BED_LIFETIME:=900}"
# How long bed_stop waits after TERM before sending KILL, and after KILL before giving up (seconds).
: "${BED_STOP_WAIT:=5}"
# Where per-bed state lives (process file, relay files). /run is a tmpfs: nothing survives a reboot.
: "${BED_RUN_ROOT:=/run/joind-bed}"

# bed_dir PREFIX — print the bed's state directory.
bed_dir() { printf '%s/%s\n' "$BED_RUN_ROOT" "$1"; }

# _bed_stat_field PID N — print field N (counted after the "(comm)" field: 1 = state, 20 = start
# time) of /proc/PID/stat. comm may hold spaces and parentheses, so split after the last ')'.
_bed_stat_field() {
  local line
  { read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
  line=${line##*) }
  # shellcheck disable=SC2086
  set -- $line "$2"
  local n=${!#}
  printf '%s\n' "${!n}"
}

# bed_wait_for SECONDS CMD [ARGS...] — run CMD every 0.1 s until it succeeds (return 0) or SECONDS
# (a whole number) have passed (return 1). The one bounded poll every "wait until ready" uses.
bed_wait_for() {
  local n=$(( $1 * 10 )) i
  shift
  for (( i = 0; i <= n; i++ )); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# bed_proc_start PID — print the start time of PID (clock ticks since boot), or fail if it is gone.
bed_proc_start() { _bed_stat_field "$1" 20; }

# bed_proc_alive PID [START] — true if PID runs (not a zombie) and, when START is given, is still the
# same process (same start time).
bed_proc_alive() {
  local pid=$1 start=${2:-} state now
  [ -n "$pid" ] && [ "$pid" != "-" ] || return 1
  state=$(_bed_stat_field "$pid" 1) || return 1
  case $state in Z|X|x) return 1 ;; esac
  if [ -n "$start" ] && [ "$start" != "-" ]; then
    now=$(bed_proc_start "$pid") || return 1
    [ "$now" = "$start" ] || return 1
  fi
  return 0
}

# _bed_children PID — print the PIDs whose parent is PID (scanning /proc, by PID only).
_bed_children() {
  local f line rest
  for f in /proc/[0-9]*/stat; do
    { read -r line < "$f"; } 2>/dev/null || continue
    rest=${line##*) }
    # rest = "STATE PPID ..."; keep the PPID
    rest=${rest#* }
    [ "${rest%% *}" = "$1" ] && { line=${f#/proc/}; printf '%s\n' "${line%/stat}"; }
  done
  return 0
}

# _bed_reap PID — collect PID's exit status if it is our own child (harmless otherwise). Called once
# the recorded process is known to be dead; but after thousands of spawns the PID may already belong to
# a newer child of ours, and `wait` would block on it: only a PID that is gone or a zombie is waited for.
_bed_reap() {
  bed_proc_alive "$1" && return 0
  wait "$1" 2>/dev/null
  return 0
}

# _bed_wait_gone PID START SECONDS — poll (every 0.1 s, bounded) until PID is gone; true if it went.
_bed_wait_gone() {
  local pid=$1 start=$2 i n
  n=$(( $3 * 10 ))
  for (( i = 0; i < n; i++ )); do
    bed_proc_alive "$pid" "$start" || { _bed_reap "$pid"; return 0; }
    sleep 0.1
  done
  bed_proc_alive "$pid" "$start" && return 1
  _bed_reap "$pid"; return 0
}

# bed_stop_pid PID [START] — TERM, wait up to BED_STOP_WAIT s, then KILL and wait again. Returns 0
# when the process is gone (or was never there), 1 if it survived even KILL.
bed_stop_pid() {
  local pid=$1 start=${2:-}
  [ -n "$start" ] || start=$(bed_proc_start "$pid" 2>/dev/null) || { _bed_reap "$pid"; return 0; }
  bed_proc_alive "$pid" "$start" || { _bed_reap "$pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null
  _bed_wait_gone "$pid" "$start" "$BED_STOP_WAIT" && return 0
  bed_proc_alive "$pid" "$start" && kill -KILL "$pid" 2>/dev/null
  _bed_wait_gone "$pid" "$start" 2 && return 0
  echo "bed: PID $pid survived KILL" >&2
  return 1
}

# bed_spawn PREFIX NS NAME LOG -- CMD [ARGS...]
#   Start CMD in namespace NS ("-" = the root namespace) in the background, stdin from /dev/null,
#   stdout+stderr appended to LOG, under `timeout BED_LIFETIME`. Records it in the bed's process file.
#   Sets BED_PID (the timeout wrapper: signal this one, it forwards TERM to the command) and
#   BED_CMD_PID (the command itself, e.g. to send it SIGHUP or read its memory use).
#   Must be called in the test's own shell (not inside $(...)) so the test can `wait` on BED_PID.
bed_spawn() {
  local prefix=$1 ns=$2 name=$3 log=$4 dir i kids
  shift 4
  [ "${1:-}" = "--" ] && shift
  [ $# -gt 0 ] || { echo "bed_spawn: no command" >&2; return 2; }
  dir=$(bed_dir "$prefix")
  [ -d "$dir" ] || { echo "bed_spawn: bed '$prefix' is not up ($dir missing)" >&2; return 2; }
  if [ "$ns" = "-" ]; then
    timeout -k 5 "$BED_LIFETIME" "$@" </dev/null >>"$log" 2>&1 &
  else
    timeout -k 5 "$BED_LIFETIME" ip netns exec "$ns" "$@" </dev/null >>"$log" 2>&1 &
  fi
  BED_PID=$!
  BED_CMD_PID=-
  local wstart
  wstart=$(bed_proc_start "$BED_PID" 2>/dev/null || echo -)
  # Recorded at once, so that a signal arriving now already finds the wrapper in the file.
  printf '%s %s - - %s %s\n' "$BED_PID" "$wstart" "$name" "$ns" >> "$dir/procs"
  # timeout forks once; its single child becomes the command (ip netns exec execs it). Bounded wait.
  for (( i = 0; i < 50; i++ )); do
    kids=$(_bed_children "$BED_PID")
    [ -n "$kids" ] && { BED_CMD_PID=${kids%%$'\n'*}; break; }
    bed_proc_alive "$BED_PID" || break
    sleep 0.02
  done
  # A second line for the same wrapper, now with the command's PID (readers take the last one).
  [ "$BED_CMD_PID" = - ] || printf '%s %s %s %s %s %s\n' "$BED_PID" "$wstart" \
    "$BED_CMD_PID" "$(bed_proc_start "$BED_CMD_PID" 2>/dev/null || echo -)" "$name" "$ns" >> "$dir/procs"
  return 0
}

# bed_run PREFIX NS NAME LOG SECONDS -- CMD [ARGS...]
#   Like bed_spawn but bounded by SECONDS and waited for; returns the command's exit status (124 on
#   time-out). The wait is the `wait` builtin, so a trapped INT/TERM interrupts it at once.
bed_run() {
  local prefix=$1 ns=$2 name=$3 log=$4 secs=$5 rc
  shift 5
  [ "${1:-}" = "--" ] && shift
  BED_LIFETIME=$secs bed_spawn "$prefix" "$ns" "$name" "$log" -- "$@" || return $?
  wait "$BED_PID"; rc=$?
  return $rc
}

# bed_stop PREFIX PID — stop one process started by bed_spawn (PID = its BED_PID or BED_CMD_PID):
#   TERM the wrapper (timeout forwards it), then make sure the command is gone too. 0 = all gone.
bed_stop() {
  local prefix=$1 pid=$2 file wpid wstart cpid cstart name ns rc=0
  file="$(bed_dir "$prefix")/procs"
  [ -f "$file" ] || return 0
  while read -r wpid wstart cpid cstart name ns; do
    [ "$wpid" = "$pid" ] || [ "$cpid" = "$pid" ] || continue
    _bed_stop_record "$wpid" "$wstart" "$cpid" "$cstart" || rc=1
  done < "$file"
  return $rc
}

_bed_stop_record() {
  local wpid=$1 wstart=$2 cpid=$3 cstart=$4 rc=0
  if bed_proc_alive "$wpid" "$wstart"; then
    bed_stop_pid "$wpid" "$wstart" || rc=1
  else
    _bed_reap "$wpid"
  fi
  # The wrapper forwards TERM, but if it died first (or was KILLed) the command may be left over.
  if [ "$cpid" != "-" ] && bed_proc_alive "$cpid" "$cstart"; then
    bed_stop_pid "$cpid" "$cstart" || rc=1
  fi
  return $rc
}

# bed_stop_all PREFIX — stop every recorded process, newest first. 0 = all gone.
bed_stop_all() {
  local file rc=0 line i
  file="$(bed_dir "$1")/procs"
  [ -f "$file" ] || return 0
  local -a lines=()
  mapfile -t lines < "$file"
  for (( i = ${#lines[@]} - 1; i >= 0; i-- )); do
    line=${lines[i]}
    # shellcheck disable=SC2086
    set -- $line
    _bed_stop_record "$1" "$2" "$3" "$4" || rc=1
  done
  return $rc
}

# bed_procs PREFIX — print the recorded processes that are still running ("PID NAME NS" lines; PID
# is the wrapper's while it runs, else the command's).
bed_procs() {
  local file wpid wstart cpid cstart name ns seen=" "
  file="$(bed_dir "$1")/procs"
  [ -f "$file" ] || return 0
  while read -r wpid wstart cpid cstart name ns; do
    if bed_proc_alive "$wpid" "$wstart"; then
      case $seen in *" $wpid "*) continue ;; esac
      seen="$seen$wpid "
      printf '%s %s %s\n' "$wpid" "$name" "$ns"
    elif [ "$cpid" != "-" ] && bed_proc_alive "$cpid" "$cstart"; then printf '%s %s %s\n' "$cpid" "$name" "$ns"
    fi
  done < "$file"
  return 0
}

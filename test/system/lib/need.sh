# shellcheck shell=bash
# need.sh — the tools the system tests, the demo and the benchmarks run, the Debian packages they come
# from, and installing those packages. The one list is test/system/debian-packages.txt: a package a
# line, then the tools taken from it. test/system/run-all.sh installs the missing packages of that list
# before the tests; each test checks its own tools up front with bed_need and skips (exit 77) naming
# the missing ones. Sourced by bed.sh; a test that needs no bed sources this file alone.
#
#   bed_need TOOL…               every TOOL there, or print "skip: missing TOOL (Debian package PKG): WHY"
#                                and exit 77. As root (and unless BED_INSTALL=0 or the runner already
#                                tried) first installs the missing tools' packages.
#   bed_require_packages [TOOL…] the same, but returns 1 (after saying what is missing, on stderr)
#                                instead of exiting; default TOOLs: those the bed's clients use.
#   bed_have TOOL                true if TOOL is there. TOOL: a command (in PATH), an absolute path (a
#                                file that must exist), or py:MODULE (a module /usr/bin/python3 imports).
#   bed_package_of TOOL          the Debian package debian-packages.txt gives for TOOL.
#   bed_packages                 every package of debian-packages.txt.
#   bed_missing_packages [PKG…]  those of PKG… (default: bed_packages) that dpkg-query says are not installed.
#   bed_install PKG…             install those of PKG… that are missing: as root only; apt-get update,
#                                then apt-get install --no-install-recommends, DEBIAN_FRONTEND=noninteractive,
#                                with /usr/sbin/policy-rc.d refusing to start daemons (created only if
#                                absent, and removed again after). If the whole batch fails, the packages
#                                are tried one at a time. Returns 1 if any is still missing.
#
# Environment: BED_INSTALL=0 installs nothing (the tests then skip for what is missing);
# BED_INSTALL_TRIED=1 (set by run-all.sh for its tests) says the runner has tried already, so the tests
# do not try again.

[ -n "${_BED_NEED_LOADED:-}" ] && return 0
_BED_NEED_LOADED=1

BED_PACKAGES_FILE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/debian-packages.txt
: "${BED_INSTALL:=1}"
: "${BED_INSTALL_TRIED:=}"
# Bounds for apt-get: its own network time-outs, and an overall one for `update` (safe to cut short).
: "${BED_APT_UPDATE_TIMEOUT:=600}"
_BED_APT_OPTS=(-q -o Dpkg::Use-Pty=0 -o Acquire::Retries=1 -o Acquire::http::Timeout=30
  -o Acquire::https::Timeout=30 -o DPkg::Lock::Timeout=600)

bed_packages() { awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$BED_PACKAGES_FILE"; }

# bed_package_of TOOL — the line's package that lists TOOL (an absolute path also matches by its name).
bed_package_of() {
  awk -v t="$1" -v b="${1##*/}" '
    /^[[:space:]]*(#|$)/ { next }
    { for (i = 2; i <= NF; i++) { if ($i == t) { print $1; exit } if ($i == b && !byname) byname = $1 } }
    END { if (byname) print byname }' "$BED_PACKAGES_FILE" | head -n 1
}

bed_have() {
  case $1 in
    py:*) [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import ${1#py:}" >/dev/null 2>&1 ;;
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

_bed_pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

bed_missing_packages() {
  local p all
  if [ $# -eq 0 ]; then mapfile -t all < <(bed_packages); set -- "${all[@]}"; fi
  for p in "$@"; do _bed_pkg_installed "$p" || printf '%s\n' "$p"; done
  return 0
}

# _bed_apt_get LOG ARGS… — apt-get ARGS, output appended to LOG (update: bounded in time).
_bed_apt_get() {
  local log=$1
  shift
  if [ "$1" = update ]; then
    DEBIAN_FRONTEND=noninteractive timeout "$BED_APT_UPDATE_TIMEOUT" apt-get "${_BED_APT_OPTS[@]}" update >>"$log" 2>&1
  else
    DEBIAN_FRONTEND=noninteractive apt-get "${_BED_APT_OPTS[@]}" -y "$@" >>"$log" 2>&1
  fi
}

# _bed_apt_install LOG PKG… — apt-get update, then install PKG…; if that fails (and the update worked),
# each package on its own, so that one that cannot be had keeps none of the others out. Runs in a
# subshell holding /usr/sbin/policy-rc.d (exit 101: no daemon of a package starts) if there was none,
# and removing it again on the way out, interrupted or not.
_bed_apt_install() (
  log=$1 made='' updated=1
  shift
  trap '[ -z "$made" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    made=1
    printf '#!/bin/sh\n# joind test/system/lib/need.sh: no daemon starts while it installs packages\nexit 101\n' \
      >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  fi
  # apt-get update exits 0 when it could not fetch an index (a warning): its output tells.
  if ! _bed_apt_get "$log" update || grep -qE '^(E: |W: Failed to fetch|W: Some index files failed)' "$log"; then
    updated=
    echo "need: apt-get update failed (no network?): $(grep -m1 -E '^[EW]: ' "$log")" >&2
  fi
  _bed_apt_get "$log" install --no-install-recommends "$@" && exit 0
  # When even the update failed, the network is the problem: no use trying each package.
  [ -n "$updated" ] || exit 1
  for p in "$@"; do
    _bed_pkg_installed "$p" || _bed_apt_get "$log" install --no-install-recommends "$p"
  done
  exit 0
)

bed_install() {
  local missing log start left
  missing=$(bed_missing_packages "$@" | paste -sd ' ')
  [ -n "$missing" ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "need: not root, so not installing the missing Debian packages: $missing" >&2
    return 1
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "need: no apt-get here to install: $missing" >&2; return 1; }
  log=$(mktemp /tmp/joind-apt-XXXXXX.log)
  start=$SECONDS
  echo "need: installing Debian packages (apt-get update, then install --no-install-recommends): $missing" >&2
  # shellcheck disable=SC2086 # a list of package names
  _bed_apt_install "$log" $missing
  # shellcheck disable=SC2086
  left=$(bed_missing_packages $missing | paste -sd ' ')
  if [ -z "$left" ]; then
    echo "need: installed $(wc -w <<<"$missing") Debian package(s) in $((SECONDS - start)) s" >&2
    rm -f "$log"
    return 0
  fi
  echo "need: could not install: $left (after $((SECONDS - start)) s); the end of apt-get's output ($log):" >&2
  tail -n 12 "$log" | sed 's/^/  /' >&2
  return 1
}

# _bed_missing TOOL… — BED_MISSING: "TOOL (Debian package PKG)" for each missing TOOL, comma-separated;
# BED_MISSING_PKGS: their packages. Returns 0 when nothing is missing.
_bed_missing() {
  local t p
  BED_MISSING='' BED_MISSING_PKGS=''
  for t in "$@"; do
    bed_have "$t" && continue
    p=$(bed_package_of "$t")
    BED_MISSING="${BED_MISSING:+$BED_MISSING, }${t/#py:/python3 module }"
    BED_MISSING="$BED_MISSING (Debian package ${p:-unknown: add it to test/system/debian-packages.txt})"
    [ -z "$p" ] || case " $BED_MISSING_PKGS " in *" $p "*) ;; *) BED_MISSING_PKGS="${BED_MISSING_PKGS:+$BED_MISSING_PKGS }$p" ;; esac
  done
  [ -z "$BED_MISSING" ]
}

# bed_require_packages [TOOL…] — 0 when every TOOL is there (installing what it can), else 1 with
# BED_MISSING and BED_MISSING_WHY set and said on stderr.
bed_require_packages() {
  local why absent
  [ $# -gt 0 ] || set -- dnsmasq dhcrelay dhclient udhcpc dhcpcd bootpc tcpdump
  _bed_missing "$@" && return 0
  # shellcheck disable=SC2086 # a list of package names
  absent=$(bed_missing_packages $BED_MISSING_PKGS | paste -sd ' ')
  if [ -n "$BED_MISSING_PKGS" ] && [ -z "$absent" ]; then
    why="the package is installed, but the tool is not found (PATH=$PATH)"
  elif [ -z "$BED_MISSING_PKGS" ]; then
    why="no package to install"
  elif [ "$(id -u)" != 0 ]; then
    why="not root, so not installed"
  elif [ "$BED_INSTALL" = 0 ]; then
    why="BED_INSTALL=0, so not installed"
  elif [ -n "$BED_INSTALL_TRIED" ]; then
    why="test/system/run-all.sh could not install it (see its output)"
  else
    # shellcheck disable=SC2086
    bed_install $absent
    _bed_missing "$@" && return 0
    # shellcheck disable=SC2086
    if [ -z "$(bed_missing_packages $BED_MISSING_PKGS)" ]; then
      why="the package is installed, but the tool is not found (PATH=$PATH)"
    else
      why="apt-get could not install it"
    fi
  fi
  BED_MISSING_WHY=$why
  [ -n "${_BED_NEED_QUIET:-}" ] || echo "need: missing $BED_MISSING: $why" >&2
  return 1
}

bed_need() {
  _BED_NEED_QUIET=1 bed_require_packages "$@" && return 0
  echo "skip: missing $BED_MISSING: $BED_MISSING_WHY"
  exit 77
}

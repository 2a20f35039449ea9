#!/usr/bin/env bash
# Install the Debian packages ConvergeAI needs to build, test and run.
#
#   scripts/system-deps.sh                 everything: Qt runtime libs, DB servers, Xvfb
#   scripts/system-deps.sh --runtime-only  only what running the apps needs
#
# Idempotent: does nothing (and never touches apt) when all packages are
# installed. As root it runs `apt-get update` once and installs what is
# missing, without starting the PostgreSQL/MariaDB system services (the tests
# start their own throw-away servers, see scripts/dbservers.sh). As a normal
# user it prints the command to run and exits non-zero.
set -euo pipefail

runtime_only=0
for arg in "$@"; do
    case "$arg" in
        --runtime-only) runtime_only=1 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "system-deps.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

say() { echo "system-deps: $*" >&2; }

# Qt (PySide6) offscreen platform plugin + fonts.
runtime_pkgs=(libglib2.0-0 libegl1 libgl1 libfontconfig1 libfreetype6 libxkbcommon0
              libdbus-1-3 fonts-dejavu-core libpulse0)
# Throw-away database servers for the test suite and benchmarks.
db_pkgs=(postgresql mariadb-server binutils)  # binutils: strip, for make package
# Xvfb + the xcb platform plugin's libraries, for screenshots.
xvfb_pkgs=(xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
           libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1
           libxkbcommon-x11-0)

if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian-based system (no dpkg-query); skipping. Make sure the Qt runtime" \
        "libraries, PostgreSQL and MariaDB are installed some other way."
    exit 0
fi

python=${PYTHON:-python3}
wanted=()
# `python3 -m venv` needs ensurepip, which Debian ships separately (python3-venv).
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    wanted+=(python3-venv)
fi
wanted+=("${runtime_pkgs[@]}")
if [ "$runtime_only" = 0 ]; then
    wanted+=("${db_pkgs[@]}" "${xvfb_pkgs[@]}")
fi

installed() {
    # Debian 13 renamed some libraries with a t64 suffix (libglib2.0-0t64); accept either.
    local p
    for p in "$1" "${1}t64"; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$'; then
            return 0
        fi
    done
    return 1
}

missing=()
for p in "${wanted[@]}"; do
    installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
    say "all system packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing system packages; install them with: sudo apt-get install --no-install-recommends ${missing[*]}   (or rerun with SKIP_SYSTEM_DEPS=1 to skip this check)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
say "installing: ${missing[*]}"
apt-get update -q

# Resolve t64-renamed packages to whatever this release actually provides.
to_install=()
for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1 && apt-cache show "${p}t64" >/dev/null 2>&1; then
        to_install+=("${p}t64")
    else
        to_install+=("$p")
    fi
done

# Keep the packages' maintainer scripts from starting the system PostgreSQL
# cluster / MariaDB service: invoke-rc.d (and deb-systemd-invoke) consult
# /usr/sbin/policy-rc.d, and exit code 101 means "action forbidden".
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, created by convergeai scripts/system-deps.sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    own_policy=1
    trap 'rm -f "$policy"' EXIT
fi

apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "${to_install[@]}"

if [ "$own_policy" = 1 ]; then
    rm -f "$policy"
    trap - EXIT
fi
say "done"

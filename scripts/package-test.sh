#!/usr/bin/env bash
# Build the ConvergeAI bundle from a clean copy of the sources and check that it really runs.
#
#   scripts/package-test.sh [--worktree] [--keep]
#
# Sources: `git archive HEAD` (what CI has), or with --worktree the working tree's tracked and
# untracked-but-not-ignored files (to test changes before committing). Builds with build.spec and
# the project's .venv (PYTHON=... to choose another interpreter with PyInstaller), packs the
# archive as `make package` does, unpacks it elsewhere, then runs from the unpacked bundle, in a
# throw-away home (XDG dirs, config file, SQLite database all in a temp dir, QT_QPA_PLATFORM=offscreen):
#   the bundle self-test (virtual keyboard QML, chart, font, migrations, resources),
#   convergeai --version / db upgrade / db current / demo,
#   convergeai-kiosk --smoke, convergeai-admin --smoke (and the kiosk under Xvfb when available),
#   and checks the bundle size (PACKAGE_MAX_MB, default 250) and that the log files were written.
# Exits non-zero naming the first thing that failed; the temp dir is removed unless --keep.
set -euo pipefail

worktree=0
keep=0
for arg in "$@"; do
    case "$arg" in
        --worktree) worktree=1 ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "package-test: unknown argument $arg (try --help)" >&2; exit 2 ;;
    esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
max_mb="${PACKAGE_MAX_MB:-250}"
step_timeout="${PACKAGE_STEP_TIMEOUT:-180}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/convergeai-package-test.XXXXXX")"
cleanup() {
    if [ "$keep" = 1 ]; then echo "package-test: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

say() { echo "package-test: $*"; }
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

"$python" -c 'import PyInstaller' 2>/dev/null \
    || fail "PyInstaller is not installed in $python (run: make venv)"
if [ "$(uname -s)" = Linux ] && ! command -v strip >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing binutils (strip)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends binutils >/dev/null
    else
        say "warning: no strip (binutils): the bundle will be larger"
    fi
fi

# 1. A clean copy of the sources -----------------------------------------------------------------
src="$tmp/src"
mkdir -p "$src"
if [ "$worktree" = 1 ]; then
    say "sources: the working tree (tracked + untracked, not ignored)"
    (cd "$root" && git ls-files -z --cached --others --exclude-standard \
        | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
        | tar --null -T - -cf -) | tar -xf - -C "$src"
else
    say "sources: git archive HEAD ($(git -C "$root" rev-parse --short HEAD))"
    git -C "$root" archive --format=tar HEAD | tar -xf - -C "$src"
fi

missing=()
for f in build.spec packaging/entry.py packaging/archive.py shared/cli.py kiosk/app.py \
         admin_console/app.py; do
    [ -e "$src/$f" ] || missing+=("$f")
done
for f in build.spec packaging/entry.py packaging/archive.py shared/cli.py; do
    [ -e "$src/$f" ] || fail "cannot build: $f is missing from the sources (commit it, or use --worktree)"
done
if [ ${#missing[@]} -gt 0 ]; then
    say "WARNING: missing from the sources, building without them: ${missing[*]}"
fi

# 2. Build and pack --------------------------------------------------------------------------------
say "building with $("$python" -m PyInstaller --version 2>/dev/null) (log: $tmp/build.log)"
t0=$(now)
if ! (cd "$src" && "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$src/dist" --workpath "$tmp/build" build.spec) >"$tmp/build.log" 2>&1; then
    tail -n 40 "$tmp/build.log" >&2
    fail "pyinstaller build.spec"
fi
build_s=$(elapsed "$t0")
# The modules must come from the clean copy, not from an editable install of the checkout.
toc="$(ls "$tmp"/build/*/Analysis-00.toc 2>/dev/null | head -n 1)"
if [ -n "$toc" ] && ! grep -q "$src/shared/cli.py" "$toc"; then
    fail "the build did not take shared/ from the clean copy ($src); see $toc"
fi
archive="$(cd "$src" && "$python" packaging/archive.py --dist "$src/dist")" || fail "packaging/archive.py"
say "built in ${build_s} s: $(basename "$archive") ($(du -m "$archive" | cut -f1) MB)"

mkdir -p "$tmp/installed"
tar -xzf "$archive" -C "$tmp/installed"
bundle="$(ls -d "$tmp"/installed/convergeai-*)"
rm -rf "$src/dist"  # run only from the unpacked archive
size_mb=$(du -sm "$bundle" | cut -f1)
say "unpacked bundle: $size_mb MB (target: at most $max_mb MB)"
[ "$size_mb" -le "$max_mb" ] || fail "the bundle is $size_mb MB, over $max_mb MB"

# 3. Run from the bundle in a throw-away home -------------------------------------------------
home="$tmp/home"
mkdir -p "$home"
unset_vars=(-u DATABASE_URL)
for var in $(compgen -e); do
    case "$var" in CONVERGEAI_*) unset_vars+=(-u "$var") ;; esac
done
run_env=(
    env "${unset_vars[@]}"
    HOME="$home"
    XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data"
    XDG_STATE_HOME="$home/state" XDG_CACHE_HOME="$home/cache"
    CONVERGEAI_CONFIG="$home/config.toml"
    CONVERGEAI_DATABASE_URL="sqlite:///$home/convergeai.db"
    CONVERGEAI_AUTH_BCRYPT_COST=4
    QT_QPA_PLATFORM=offscreen
)

run() {  # run NAME PROGRAM ARGS...: one step, output in $tmp/NAME.log
    local name="$1"; shift
    local t
    t=$(now)
    if "${run_env[@]}" timeout "$step_timeout" "$@" >"$tmp/$name.log" 2>&1; then
        say "ok   $name ($(elapsed "$t") s)"
    else
        local rc=$?
        tail -n 30 "$tmp/$name.log" >&2
        fail "$name exited with status $rc"
    fi
}

run selftest env CONVERGEAI_BUNDLE_SELFTEST=1 "$bundle/convergeai-kiosk"
run version "$bundle/convergeai" --version
grep -q "$("$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import shared; print(shared.__version__)' "$src")" \
    "$tmp/version.log" || fail "convergeai --version does not print the source's version"
run db-upgrade "$bundle/convergeai" db upgrade
run db-current "$bundle/convergeai" db current
grep -q "up to date" "$tmp/db-current.log" || fail "db current does not say up to date"
run demo "$bundle/convergeai" demo
if [[ " ${missing[*]} " == *" kiosk/app.py "* ]]; then
    fail "convergeai-kiosk cannot be tested: kiosk/app.py (kiosk.app:main) is missing"
fi
run kiosk-smoke "$bundle/convergeai-kiosk" --smoke
if [[ " ${missing[*]} " == *" admin_console/app.py "* ]]; then
    fail "convergeai-admin cannot be tested: admin_console/app.py (admin_console.app:main) is missing"
fi
run admin-smoke "$bundle/convergeai-admin" --smoke
if command -v xvfb-run >/dev/null; then
    # the xcb platform plugin and the X11 libraries bundled with it, as on a real kiosk
    run kiosk-smoke-xcb env QT_QPA_PLATFORM=xcb xvfb-run -a "$bundle/convergeai-kiosk" --smoke
fi

for app in cli kiosk admin; do
    [ -e "$home/state/convergeai/log/$app.log" ] || [ "$(uname -s)" != Linux ] \
        || fail "no log file $home/state/convergeai/log/$app.log"
done
if grep -rqi "summit-demo-2026" "$home/state/convergeai/log/"; then
    fail "a demo password reached the log files"
fi
say "PASSED: bundle $size_mb MB, build ${build_s} s"

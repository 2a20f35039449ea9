#!/usr/bin/env bash
# Install an unpacked ConvergeAI bundle on Linux.
#
#   sudo ./linux/install.sh [--kiosk]          system-wide: /opt/convergeai, /usr/local/bin,
#                                              /usr/share/applications, /etc/systemd/user
#   ./linux/install.sh --user [--kiosk]        this account only: ~/.local/opt/convergeai, ...
#
# --kiosk also installs the systemd user unit that starts the kiosk at login and restarts it if it
# dies, and enables it (for every user with --global when system-wide: run it only on a machine
# whose graphical login is the kiosk account; for this account with --user).
# Run from the unpacked folder (convergeai-<version>-<platform>/). Re-running upgrades in place.
set -euo pipefail

user_mode=0
kiosk=0
for arg in "$@"; do
    case "$arg" in
        --user) user_mode=1 ;;
        --kiosk) kiosk=1 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -x "$src/convergeai-kiosk" ] || { echo "install.sh: no bundle in $src" >&2; exit 1; }

if [ "$user_mode" = 1 ]; then
    prefix="$HOME/.local/opt/convergeai"
    bin="$HOME/.local/bin"
    apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
    icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
    units="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
else
    [ "$(id -u)" = 0 ] || { echo "install.sh: run as root, or with --user" >&2; exit 1; }
    prefix="/opt/convergeai"
    bin="/usr/local/bin"
    apps="/usr/share/applications"
    icons="/usr/share/icons/hicolor/scalable/apps"
    units="/etc/systemd/user"
fi

mkdir -p "$prefix" "$bin" "$apps" "$icons"
# Replace the old version as a whole (no stale libraries left behind), then link the commands.
staging="$prefix.new.$$"
rm -rf "$staging"
cp -a "$src" "$staging"
rm -rf "$prefix.old"
[ -d "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$staging" "$prefix"
rm -rf "$prefix.old"
for program in convergeai convergeai-kiosk convergeai-admin; do
    ln -sfn "$prefix/$program" "$bin/$program"
done
for entry in convergeai-kiosk convergeai-admin; do
    sed "s|@PREFIX@|$prefix|g" "$src/linux/$entry.desktop" > "$apps/$entry.desktop"
done
cp "$src/linux/convergeai.svg" "$icons/convergeai.svg"
echo "Installed ConvergeAI in $prefix (commands linked in $bin)."

if [ "$kiosk" = 1 ]; then
    mkdir -p "$units"
    sed "s|@PREFIX@|$prefix|g" "$src/linux/convergeai-kiosk.service" > "$units/convergeai-kiosk.service"
    if [ "$user_mode" = 1 ]; then
        systemctl --user daemon-reload || true
        systemctl --user enable convergeai-kiosk.service
    else
        systemctl --global enable convergeai-kiosk.service
    fi
    echo "The kiosk starts at graphical login and restarts if it stops (convergeai-kiosk.service)."
fi

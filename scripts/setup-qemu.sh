#!/usr/bin/env bash
# Installs what the firmware template and scripts/m4bench.sh need, on Debian bookworm (or newer):
#   - qemu-system-arm >= 9 (machine b-l475e-iot01a); bookworm itself ships 7.2, so take it from
#     bookworm-backports,
#   - gcc-arm-none-eabi (for arm-none-eabi-nm / arm-none-eabi-size),
#   - the Rust target thumbv7em-none-eabihf,
#   - the m4count QEMU plugin, built to target/m4count/libregioncount.so under the repo.
# Idempotent: every step is skipped when its result is already there. Needs root (or sudo) for apt.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
plugin_dir="$repo/target/m4count"
m4count_src="${M4COUNT_SRC:-$repo/../shared/tools/m4count}"

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

say() { printf '[setup-qemu] %s\n' "$*"; }

# Major version of the installed qemu-system-arm, or 0.
qemu_major() {
    if command -v qemu-system-arm >/dev/null 2>&1; then
        qemu-system-arm --version | sed -n '1s/.*version \([0-9][0-9]*\)\..*/\1/p'
    else
        echo 0
    fi
}

# Adds a bookworm-backports apt source (deb822) copying URIs/Signed-By from the main Debian entry.
add_backports() {
    if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        return
    fi
    local uris="http://deb.debian.org/debian" signed="/usr/share/keyrings/debian-archive-keyring.gpg"
    local src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ]; then
        # First stanza is the main archive (the security archive follows it).
        uris=$(awk '/^URIs:/{print $2; exit}' "$src")
        signed=$(awk '/^Signed-By:/{print $2; exit}' "$src")
    fi
    say "adding bookworm-backports ($uris)"
    $sudo tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<EOF
Types: deb
URIs: $uris
Suites: bookworm-backports
Components: main
Signed-By: $signed
EOF
}

apt_updated=0
apt_update() {
    if [ "$apt_updated" -eq 0 ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
}

# 1. QEMU >= 9.
major=$(qemu_major)
if [ "${major:-0}" -ge 9 ]; then
    say "qemu-system-arm $major.x already installed"
else
    add_backports
    apt_update
    say "installing qemu-system-arm from bookworm-backports"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        -t bookworm-backports qemu-system-arm
    major=$(qemu_major)
    if [ "${major:-0}" -lt 9 ]; then
        say "ERROR: qemu-system-arm is $(qemu-system-arm --version | head -1); need >= 9" >&2
        exit 1
    fi
fi
qemu-system-arm --version | head -1

# 2. arm-none-eabi binutils (nm/size). Some recommended packages of gcc-arm-none-eabi may fail
#    to unpack on slim images, so install without recommends.
if command -v arm-none-eabi-size >/dev/null 2>&1 && command -v arm-none-eabi-nm >/dev/null 2>&1; then
    say "arm-none-eabi binutils already installed"
else
    apt_update
    say "installing gcc-arm-none-eabi"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gcc-arm-none-eabi
fi

# gcc is needed for the plugin (and is usually present with Rust).
if ! command -v gcc >/dev/null 2>&1; then
    apt_update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gcc libc6-dev
fi

# 3. Rust target.
if rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
    say "rust target thumbv7em-none-eabihf already installed"
else
    rustup target add thumbv7em-none-eabihf
fi

# 4. m4count plugin.
if [ -x "$m4count_src/build.sh" ]; then
    if [ -f "$plugin_dir/libregioncount.so" ] && [ "$plugin_dir/libregioncount.so" -nt "$m4count_src/regioncount.c" ]; then
        say "m4count plugin up to date: $plugin_dir/libregioncount.so"
    else
        "$m4count_src/build.sh" "$plugin_dir" >/dev/null
        say "built m4count plugin: $plugin_dir/libregioncount.so"
    fi
elif [ -f "$plugin_dir/libregioncount.so" ]; then
    say "m4count sources not found at $m4count_src; keeping the built plugin $plugin_dir/libregioncount.so"
else
    say "NOTE: m4count sources not found at $m4count_src (set M4COUNT_SRC);"
    say "      skipping the instruction-count plugin: scripts/m4bench.sh will run without counts."
fi

say "done"

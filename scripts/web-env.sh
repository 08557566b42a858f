# Sourced by the web scripts: tools on PATH, and the size-tuned release profile for the wasm.
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export PATH="$root/web/e2e/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# The workspace's release profile is tuned for the CLI (speed, debug info); the page wants small
# wasm: opt-level z (measured: 428 KB gzipped vs 440 KB at "s" and 499 KB at 3; inference stays
# far below real time).
export CARGO_PROFILE_RELEASE_DEBUG=0
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z

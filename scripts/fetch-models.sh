#!/usr/bin/env bash
# Fetch the default models that PyPI packages ship (never committed to this repo) into
# models/pip/, and verify them by SHA-256. Idempotent; needs python3 + pip (PyPI only).
#   pymicro-wakeword==2.5.0: okay_nabu, hey_jarvis, alexa, hey_mycroft (.tflite + .json), Apache-2.0
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/models/pip"
sums="$root/scripts/models.sha256"

if (cd "$dest" 2>/dev/null && sha256sum --quiet -c "$sums" >/dev/null 2>&1); then
  echo "models: present and verified in models/pip"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "models: downloading pymicro-wakeword==2.5.0 from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" pymicro-wakeword==2.5.0
mkdir -p "$dest"
python3 - "$tmp" "$dest" <<'PY'
import sys, zipfile, glob, os
tmp, dest = sys.argv[1], sys.argv[2]
whl = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n.startswith("pymicro_wakeword/models/") and n.endswith((".tflite", ".json")):
            z.extract(n, dest)
PY
(cd "$dest" && sha256sum -c "$sums") || { echo "models: SHA-256 mismatch: refusing to use them" >&2; exit 1; }
echo "models: installed into models/pip/pymicro_wakeword/models"

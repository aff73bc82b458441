# shellcheck shell=bash
# Sourced by scripts/serve and scripts/test: make sure .venv exists and holds the project
# installed (editable) with the given extras. pip runs only when pyproject.toml (or the
# extras) changed since the last successful install; a stamp file in .venv records it.
#
#   ensure_venv "standard,dev"      sets VENV and VPY

ensure_venv() {
    local extras="$1"
    local root base_py stamp want
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    base_py="${HASTEN_PYTHON:-python3}"
    VENV="$root/.venv"
    VPY="$VENV/bin/python"
    if [[ ! -x "$VPY" ]]; then
        echo "==> creating $VENV"
        "$base_py" -m venv "$VENV"
        "$VPY" -m pip install -q --upgrade pip || echo "==> (pip upgrade skipped)"
    fi
    stamp="$VENV/.hasten-install-${extras//,/-}.stamp"
    want="$("$VPY" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$root/pyproject.toml") $extras"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "==> installing hasten[$extras] into .venv (pyproject.toml changed)"
        (cd "$root" && "$VPY" -m pip install -q -e ".[$extras]")
        echo "$want" >"$stamp"
    fi
}

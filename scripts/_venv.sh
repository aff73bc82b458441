# shellcheck shell=bash
# Sourced by scripts/serve and scripts/test.
#
#   ensure_venv EXTRAS [BASE_PYTHON [VENV_DIR]]
#       Make sure VENV_DIR (default .venv) exists, created by BASE_PYTHON (default $HASTEN_PYTHON
#       or python3), and holds the project installed (editable) with EXTRAS ("standard,dev").
#       pip runs only when pyproject.toml, the extras or the interpreter changed since the last
#       successful install (a stamp file in the venv records them); its output goes to
#       VENV_DIR/.hasten-pip.log and is shown only on failure. Sets VENV and VPY.
#       Returns non-zero (after printing why) when the venv cannot be created or installed.
#
#   find_python X.Y
#       Print the path of a working CPython X.Y interpreter, or return 1. Looks at
#       $HASTEN_PYTHON_X_Y, then `pythonX.Y` on PATH (when it runs: a pyenv shim of a version
#       not selected by `pyenv version` is on PATH but refuses to run), then pyenv's installed
#       versions (the newest X.Y.*).

find_python() {
    local want="$1" var cand root dir
    var="HASTEN_PYTHON_${want//./_}"
    for cand in "${!var:-}" "python$want"; do
        [[ -z "$cand" ]] && continue
        if _python_is "$cand" "$want"; then
            command -v "$cand"
            return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null)" || root=""
        if [[ -n "$root" && -d "$root/versions" ]]; then
            # newest patch release first (sort -V), plain CPython only (no -dev, t, pypy)
            while IFS= read -r dir; do
                cand="$root/versions/$dir/bin/python$want"
                if _python_is "$cand" "$want"; then
                    echo "$cand"
                    return 0
                fi
            done < <(find "$root/versions" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
                grep -E "^${want//./\\.}\.[0-9]+$" | sort -rV)
        fi
    fi
    return 1
}

_python_is() {  # _python_is CMD X.Y: CMD runs and is CPython X.Y
    "$1" -c 'import platform, sys
want = tuple(int(p) for p in sys.argv[1].split("."))
sys.exit(0 if sys.version_info[:2] == want and platform.python_implementation() == "CPython" else 1)' \
        "$2" >/dev/null 2>&1
}

ensure_venv() {
    local extras="$1"
    local root base_py stamp want log
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    base_py="${2:-${HASTEN_PYTHON:-python3}}"
    VENV="${3:-$root/.venv}"
    VPY="$VENV/bin/python"
    log="$VENV/.hasten-pip.log"
    if [[ -e "$VENV" ]] && ! "$VPY" -c 'import sys' >/dev/null 2>&1; then
        # Its base interpreter was removed or upgraded away: the venv cannot run any more.
        echo "==> $VENV is broken (its python does not run): recreating it"
        rm -rf "$VENV"
    fi
    if [[ ! -x "$VPY" ]]; then
        echo "==> creating $VENV ($("$base_py" -V 2>&1))"
        "$base_py" -m venv "$VENV" || { echo "==> error: '$base_py -m venv $VENV' failed"; return 1; }
        "$VPY" -m pip install -q --upgrade pip >"$log" 2>&1 || echo "==> (pip upgrade skipped)"
    fi
    stamp="$VENV/.hasten-install-${extras//,/-}.stamp"
    want="$("$VPY" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest(), sys.version.split()[0])' "$root/pyproject.toml") $extras"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "==> installing hasten[$extras] into $VENV ($("$VPY" -V 2>&1); pyproject.toml changed)"
        if ! (cd "$root" && "$VPY" -m pip install -q -e ".[$extras]") >"$log" 2>&1; then
            grep -v "^WARNING: Location 'file:" "$log" | tail -n 25
            echo "==> error: installing hasten[$extras] into $VENV failed (full log: $log)"
            return 1
        fi
        echo "$want" >"$stamp"
    fi
}

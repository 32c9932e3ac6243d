# Sourced by scripts/run and scripts/test: make .venv and install the project
# into it, only when something is missing or pyproject.toml changed.
# Needs: ROOT (repo root). Leaves: PY (the venv's python).

PY="$ROOT/.venv/bin/python"

if [ ! -x "$PY" ]; then
    echo "setup: creating .venv" >&2
    python3 -m venv "$ROOT/.venv"
fi

_stamp="$ROOT/.venv/.imagesynth-installed"
_want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_want" ] \
   || ! "$PY" -c "import imagesynth.build, pytest, playwright" >/dev/null 2>&1; then
    echo "setup: installing imagesynth[test] into .venv" >&2
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e "$ROOT[test]"
    echo "$_want" > "$_stamp"
fi

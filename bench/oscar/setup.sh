#!/usr/bin/env bash
# Create bench/.venv-oscar with the pinned Django Oscar stack (requirements.txt beside this file).
# Idempotent: does nothing when the venv was built from the same requirements.txt.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="$(cd "$here/.." && pwd)/.venv-oscar"
reqs="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3

want="$(sha256sum "$reqs" | cut -d' ' -f1)"
if [[ -x "$venv/bin/gunicorn" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "oscar venv up to date: $venv"
    exit 0
fi

[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs"
echo "$want" >"$stamp"
echo "oscar venv ready: $venv ($("$venv/bin/python" -c 'import django, oscar; print("Django", django.get_version(), "/ django-oscar", oscar.get_version())'))"

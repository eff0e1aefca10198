#!/usr/bin/env bash
# ansible-test sanity needs the collection under ansible_collections/<namespace>/<name>:
# copy the tracked files there (a symlink resolves back to this path) and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
# ansible-test bootstraps pip in each test venv with a script from its own file host; give it
# one that uses ensurepip and the package index instead.
PIP_VERSION=$("$VENV/bin/python" -c 'import re, ansible_test, os; p = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"); print(re.search(r"pip=.([0-9.]+).", open(p).read()).group(1))')
mkdir -p ~/.ansible/test/cache
cp scripts/pip_bootstrap.py ~/.ansible/test/cache/"get_pip_${PIP_VERSION//./_}.py"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DEST=$WORK/ansible_collections/solvereign/release_ops
mkdir -p "$DEST"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -P {} "$DEST"/
cd "$DEST"
git init -q . && git add -A >/dev/null && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity
"$VENV/bin/ansible-test" sanity --python "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --venv --requirements "$@"

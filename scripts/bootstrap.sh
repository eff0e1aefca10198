#!/usr/bin/env bash
# Prepare this machine for the demo and the tests: Debian packages, a Python venv with the
# runtime and test dependencies, and the collection linked where ansible finds it.
#   scripts/bootstrap.sh            everything
#   BOOTSTRAP_APT=0 scripts/bootstrap.sh   skip Debian packages
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

# Debian packages the reference stack and the checks use.
APT_PACKAGES=(git curl jq shellcheck postgresql-15 prometheus chromium fonts-dejavu-core docker.io docker-compose busybox-static)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ] && [ "${BOOTSTRAP_APT:-1}" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: please install these Debian packages first (as root):" >&2
    echo "  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha"
want=$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing Python packages"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt -r requirements-test.txt
  echo "$want" > "$stamp"
fi

# ansible.cfg looks for collections in .collections: link this checkout there.
mkdir -p .collections/ansible_collections/solvereign
ln -sfn "$ROOT" .collections/ansible_collections/solvereign/release_ops
# awx.awx for playbooks/awx_configure.yml (syntax check, lint), from the ansible package on PyPI.
"$VENV/bin/python" scripts/install_awx_collection.py .collections
version=$("$VENV/bin/ansible" --version)
echo "bootstrap: ready (${version%%$'\n'*})"

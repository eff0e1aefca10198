"""Install the awx.awx collection into a collections directory, from PyPI.

playbooks/awx_configure.yml applies the AWX configuration with the awx.awx collection; its syntax
check and lint need the collection installed. Galaxy is not always reachable, PyPI is: the
community package ``ansible`` bundles awx.awx, so its wheel is downloaded (``pip download
--no-deps``, nothing is installed into the venv) and only ``ansible_collections/awx/awx`` is
extracted.

    python scripts/install_awx_collection.py .collections

Nothing happens when the wanted version is already there.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

AWX_VERSION = "24.6.1"
# The release of the community package that bundles awx.awx AWX_VERSION.
ANSIBLE_PACKAGE = "ansible==12.3.0"
PREFIX = "ansible_collections/awx/awx/"


def installed_version(target):
    manifest = os.path.join(target, "ansible_collections", "awx", "awx", "MANIFEST.json")
    try:
        with open(manifest) as handle:
            return json.load(handle)["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        return None


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s <collections dir>\n" % argv[0])
        return 2
    target = os.path.abspath(argv[1])
    if installed_version(target) == AWX_VERSION:
        return 0
    workdir = tempfile.mkdtemp(prefix="awx-collection-")
    try:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                               "--no-deps", "--only-binary=:all:", "-d", workdir, ANSIBLE_PACKAGE],
                              capture_output=True, text=True, check=False)
        wheels = [name for name in os.listdir(workdir) if name.endswith(".whl")]
        if proc.returncode != 0 or len(wheels) != 1:
            sys.stderr.write("install_awx_collection: pip download %s failed: %s\n"
                             % (ANSIBLE_PACKAGE, (proc.stderr or proc.stdout).strip()[-2000:]))
            return 1
        destination = os.path.join(target, "ansible_collections", "awx", "awx")
        shutil.rmtree(destination, ignore_errors=True)
        with zipfile.ZipFile(os.path.join(workdir, wheels[0])) as wheel:
            members = [name for name in wheel.namelist() if name.startswith(PREFIX)]
            for name in members:
                wheel.extract(name, target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    found = installed_version(target)
    if found != AWX_VERSION:
        sys.stderr.write("install_awx_collection: %s holds awx.awx %s, not %s\n" % (ANSIBLE_PACKAGE, found, AWX_VERSION))
        return 1
    print("install_awx_collection: awx.awx %s in %s" % (AWX_VERSION, target))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

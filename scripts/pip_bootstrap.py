"""Stand-in for the get-pip.py bootstrap script ansible-test downloads from its own file host.

That host is not reachable from every build machine; PyPI is. ansible-test runs this file with
the new virtual environment's Python and the arguments meant for get-pip.py
(`--disable-pip-version-check pip==X [--no-setuptools] [--no-wheel]`): install pip with the
standard library's ensurepip, then let it install the requested versions from the package index.
"""

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main(argv):
    args = [a for a in argv if a not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    main(sys.argv[1:])

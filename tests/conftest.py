"""Make this checkout importable as ansible_collections.solvereign.release_ops."""

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_root():
    linked = os.path.join(ROOT, ".collections")
    target = os.path.join(linked, "ansible_collections", "solvereign", "release_ops")
    if os.path.realpath(target) == ROOT:
        return linked
    scratch = tempfile.mkdtemp(prefix="solvereign-collections-")
    os.makedirs(os.path.join(scratch, "ansible_collections", "solvereign"))
    os.symlink(ROOT, os.path.join(scratch, "ansible_collections", "solvereign", "release_ops"))
    return scratch


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

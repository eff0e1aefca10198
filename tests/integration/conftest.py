"""Run the collection's playbooks against the real reference stack (tests/stack)."""

import json
import os
import socket
import subprocess
import sys

import pytest

from tests.stack import stackctl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# The stack without its docker component: the section 7 tests run their own containers on the
# project's Docker engine (and add the API's log container where they need it).
COMPONENTS = ("db", "api", "prometheus", "sentry")


@pytest.fixture(scope="session")
def stack():
    """Start the whole stack once per test session; a failure to start fails the tests."""
    try:
        stackctl.start(components=COMPONENTS)
    except stackctl.StackError as exc:
        pytest.fail("the reference stack did not start: %s" % exc, pytrace=False)
    yield stackctl
    stackctl.stop()


@pytest.fixture
def fresh_metrics(stack):
    """Prometheus on an empty TSDB, for a test that expects the healthy stack's 7.2 to pass: the
    earlier tests' faults (a 503 /ready, 5xx bursts) would otherwise still weigh in its 5m rates."""
    try:
        stack.restart_prometheus()
    except stackctl.StackError as exc:
        pytest.fail("Prometheus did not restart: %s" % exc, pytrace=False)
    return stack


def assert_no_traceback(run):
    """No Python traceback in the run's output (a container's escaped log sample does not count)."""
    output = run.output.replace("Traceback (most recent call last):\\n", "")
    assert "Traceback (most recent call last)" not in output, run.output[-3000:]


def closed_port():
    """A loopback port nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _faults(apply):
    """A function that applies faults with ``apply`` and a cleanup that restores health once."""
    used = []

    def set_faults(*names):
        used.append(names)
        apply(faults=names)

    def restore():
        if used:
            apply(faults=())
    return set_faults, restore


@pytest.fixture
def api_faults(stack):
    """Restart the API with the given faults; the healthy API is back after the test."""
    set_faults, restore = _faults(stack.restart_api)
    yield set_faults
    restore()


@pytest.fixture
def db_faults(stack):
    """Recreate the database with the given faults; the healthy schema is back after the test."""
    set_faults, restore = _faults(stack.reset_db)
    yield set_faults
    restore()


@pytest.fixture
def origin_faults(stack):
    """Rebuild the origin repository with the given tag faults; healthy again after the test."""
    set_faults, restore = _faults(stack.rebuild_origin)
    yield set_faults
    restore()


class Run:
    def __init__(self, proc, evidence_dir):
        self.proc = proc
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.evidence_dir = evidence_dir
        path = os.path.join(evidence_dir, "checklist.json")
        self.checklist = json.load(open(path)) if os.path.exists(path) else None

    @property
    def rows(self):
        return dict(((r["environment"], r["id"]), r) for r in self.checklist["checks"])

    def row(self, check_id, environment="local"):
        return self.rows[(environment, check_id)]

    def status(self, check_id, environment="local"):
        return self.row(check_id, environment)["status"]


def run_playbook(evidence_dir, playbook="playbooks/verify.yml", inventories=("inventories/local",),
                 extra_vars=None, env=None, args=(), timeout=600):
    cmd = [ANSIBLE_PLAYBOOK, playbook]
    for inventory in inventories:
        cmd += ["-i", str(inventory)]
    variables = {"solvereign_evidence_dir": str(evidence_dir)}
    variables.update(extra_vars or {})
    cmd += ["-e", json.dumps(variables)] + list(args)
    full_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_FORCE_COLOR="0", PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(proc, str(evidence_dir))


@pytest.fixture
def verify(tmp_path):
    def _verify(**kwargs):
        kwargs.setdefault("evidence_dir", tmp_path / "evidence")
        return run_playbook(**kwargs)
    return _verify

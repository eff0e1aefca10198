"""What the molecule scenarios of the acting playbooks need, set up and torn down by name.

CLI (the scenarios' prepare.yml and cleanup.yml call it; `make molecule` tears down the rest):
    molecule_fixtures.py up soak        # a Prometheus on a backfilled TSDB: a healthy and a 5xx window
    molecule_fixtures.py up rollback    # the compose project at v3.7.0 on the project's dockerd, an origin
    molecule_fixtures.py up hotfix      # a release repository at v3.7.0 with a bare origin and fix commits
    molecule_fixtures.py down NAME|all  # stop and remove what `up` made (never fails when nothing is there)

`up` prints the fixture as JSON and keeps it in ``$SOLVEREIGN_STACK_DIR/molecule/<name>/fixture.json``;
the scenarios read that file. The fixtures are the integration tests' own: the soak windows of
tests/integration/soak_tsdb.py, the compose project and origin of tests/stack/compose_stack.py,
the hotfix repositories of tests/integration/test_hotfix.py. Expected failures print one line and
exit 1.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.stack import compose_stack  # noqa: E402  pylint: disable=wrong-import-position

# The engine module compose_stack drives (its errors are the ones it raises).
dockerd = compose_stack.dockerd

NAMES = ("soak", "rollback", "hotfix")
# The soak windows the scenario judges: a healthy two hours, and two hours with 6% 5xx for 6 minutes.
SOAK_WINDOWS = ("healthy", "5xx_6pct_6min")


class FixtureError(RuntimeError):
    """An expected failure with a one-line explanation."""


def _state_dir():
    return os.path.realpath(os.environ.get("SOLVEREIGN_STACK_DIR") or "/tmp/solvereign-stack")


def fixture_dir(name):
    return os.path.join(_state_dir(), "molecule", name)


def _fixture_file(name):
    return os.path.join(fixture_dir(name), "fixture.json")


def load(name):
    try:
        with open(_fixture_file(name)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _save(name, data):
    with open(_fixture_file(name), "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return data


def _fresh(name):
    down(name)
    path = fixture_dir(name)
    os.makedirs(path)
    return path


# --- soak ------------------------------------------------------------------------------------------
def up_soak():
    from tests.integration.soak_tsdb import BackfilledPrometheus, Layout  # pylint: disable=import-outside-toplevel
    workdir = _fresh("soak")
    prometheus = BackfilledPrometheus(workdir, layout=Layout(names=SOAK_WINDOWS))
    try:
        prometheus.start()
    except (RuntimeError, OSError) as exc:
        raise FixtureError("the backfilled Prometheus did not start: %s" % exc)
    windows = {}
    for window in SOAK_WINDOWS:
        start, end = prometheus.layout.window(window)
        windows[window] = {"start": int(start), "end": int(end)}
    return _save("soak", {"prometheus_url": prometheus.url, "pid": prometheus.proc.pid, "workdir": workdir,
                          "windows": windows})


def _stop_process_group(pid, marker):
    """SIGTERM (then SIGKILL) the process group led by ``pid`` if that process is ours (``marker``)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            if marker.encode() not in handle.read():
                return
    except OSError:
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except (ChildProcessError, OSError):
                pass
            if not os.path.exists("/proc/%d" % pid) or _zombie(pid):
                return
            time.sleep(0.1)


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def down_soak(data):
    if data.get("pid"):
        _stop_process_group(int(data["pid"]), data.get("workdir") or fixture_dir("soak"))


# --- rollback --------------------------------------------------------------------------------------
def up_rollback():
    path = _fresh("rollback")
    started = not dockerd.running()
    data = _save("rollback", {"dockerd_started": started})
    try:
        host = dockerd.start()
        project = os.path.join(path, "solvereign")
        container = compose_stack.deploy(project, variant="literal", tag="v3.7.0")
        origin = os.path.join(path, "origin.git")
        commits = compose_stack.create_origin(origin)
    except (dockerd.DockerdError, compose_stack.ComposeStackError, OSError, subprocess.SubprocessError) as exc:
        raise FixtureError("the compose project did not come up: %s" % exc)
    data.update(docker_host=host, project_dir=project, container=container, origin=origin, commits=commits,
                api_url=compose_stack.api_url())
    return _save("rollback", data)


def down_rollback(data):
    if data.get("project_dir"):
        try:
            compose_stack.down(data["project_dir"])
        except (compose_stack.ComposeStackError, dockerd.DockerdError, OSError, subprocess.SubprocessError):
            pass
    if data.get("dockerd_started"):
        dockerd.stop()


# --- hotfix ----------------------------------------------------------------------------------------
def up_hotfix():
    import pathlib  # pylint: disable=import-outside-toplevel
    from tests.integration.test_hotfix import DESCRIPTION, Project  # pylint: disable=import-outside-toplevel
    path = _fresh("hotfix")
    try:
        project = Project(pathlib.Path(path))
    except (OSError, subprocess.SubprocessError) as exc:
        raise FixtureError("the hotfix repositories could not be built: %s" % exc)
    return _save("hotfix", {"repo": str(project.repo), "origin": str(project.origin), "release": project.release,
                            "fix": project.fix, "description": DESCRIPTION,
                            "refs_before": project.refs().splitlines()})


def down_hotfix(data):  # pylint: disable=unused-argument
    return None


UP = {"soak": up_soak, "rollback": up_rollback, "hotfix": up_hotfix}
DOWN = {"soak": down_soak, "rollback": down_rollback, "hotfix": down_hotfix}


def up(name):
    try:
        return UP[name]()
    except FixtureError:
        down(name)
        raise


def down(name):
    data = load(name)
    if data is not None:
        DOWN[name](data)
    shutil.rmtree(fixture_dir(name), ignore_errors=True)


def main(argv):
    names = NAMES + ("all",)
    if len(argv) != 2 or argv[0] not in ("up", "down") or argv[1] not in (names if argv[0] == "down" else NAMES):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        if argv[0] == "up":
            print(json.dumps(up(argv[1]), sort_keys=True))
        else:
            for name in (NAMES if argv[1] == "all" else (argv[1],)):
                down(name)
            if argv[1] == "all":
                shutil.rmtree(os.path.join(_state_dir(), "molecule"), ignore_errors=True)
    except FixtureError as exc:
        print("molecule_fixtures: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

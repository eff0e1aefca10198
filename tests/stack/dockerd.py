"""A private Docker engine for the tests: dockerd on a unix socket in the state dir.

CLI:
    dockerd.py start      # prints the DOCKER_HOST value
    dockerd.py image      # builds solvereign/logsource:test from busybox-static
    dockerd.py stop

Python:
    import dockerd
    host = dockerd.start()                      # unix://<state>/docker.sock
    dockerd.ensure_image()
    dockerd.run_container("logs-clean", "echo hello")
    dockerd.stop()

dockerd runs as root with ``--storage-driver vfs --iptables=false --bridge=none``: no
network setup, nothing outside the state dir (``$SOLVEREIGN_STACK_DIR``, default
/tmp/solvereign-stack) is touched. Containers run with ``--network none``. The image is a
``docker import`` of a rootfs holding only the static busybox (Debian ``busybox-static``),
so no registry is needed. Expected failures raise DockerdError.
"""

import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

IMAGE = "solvereign/logsource:test"
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
START_TIMEOUT = 30.0


class DockerdError(RuntimeError):
    """An expected failure with a one-line explanation."""


def _state():
    return Path(os.environ.get("SOLVEREIGN_STACK_DIR") or "/tmp/solvereign-stack").resolve()


def paths():
    state = _state()
    return {
        "socket": state / "docker.sock",
        "data": state / "docker",
        "exec": state / "docker-exec",
        "pid": state / "docker.pid",
        "log": state / "logs" / "dockerd.log",
    }


def docker_host():
    return "unix://%s" % paths()["socket"]


def _docker_bin():
    found = shutil.which("docker")
    if not found:
        raise DockerdError("docker CLI not found: install the Debian package docker.io")
    return found


def docker(*args, check=True, timeout=60, **kwargs):
    """Run the docker CLI against this dockerd; return the CompletedProcess."""
    env = dict(os.environ, DOCKER_HOST=docker_host())
    proc = subprocess.run([_docker_bin()] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, **kwargs, check=False)
    if check and proc.returncode != 0:
        raise DockerdError("docker %s failed: %s" % (" ".join(args[:2]), proc.stderr.strip()[:400]))
    return proc


def _pid():
    try:
        pid = int(paths()["pid"].read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return pid if b"dockerd" in fh.read() else None
    except OSError:
        return None


def running():
    return _pid() is not None and docker("version", "--format", "{{.Server.Version}}", check=False,
                                         timeout=10).returncode == 0


def start():
    """Start dockerd (or reuse the one already running for this state dir); return DOCKER_HOST."""
    if running():
        return docker_host()
    if os.geteuid() != 0:
        raise DockerdError("dockerd needs root; run the tests as root")
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if os.access("/usr/sbin/dockerd", os.X_OK) else None)
    if not dockerd:
        raise DockerdError("dockerd not found: install the Debian package docker.io")
    _docker_bin()
    p = paths()
    stop()
    for key in ("data", "exec"):
        p[key].mkdir(parents=True, exist_ok=True)
    p["log"].parent.mkdir(parents=True, exist_ok=True)
    # A unix socket path is limited to 108 bytes.
    if len(str(p["socket"])) > 100:
        raise DockerdError("state dir path too long for a unix socket: %s" % p["socket"])
    log = open(p["log"], "ab")
    try:
        proc = subprocess.Popen(
            [dockerd, "--storage-driver", "vfs", "--iptables=false", "--ip-masq=false", "--bridge=none",
             "--host", docker_host(), "--data-root", str(p["data"]), "--exec-root", str(p["exec"]),
             "--pidfile", str(p["pid"])],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DockerdError("dockerd exited with %s; see %s%s" % (proc.returncode, p["log"], _last_line(p["log"])))
        if p["socket"].exists() and docker("version", check=False, timeout=10).returncode == 0:
            return docker_host()
        time.sleep(0.2)
    proc.terminate()
    raise DockerdError("dockerd did not answer within %.0f s; see %s%s" % (START_TIMEOUT, p["log"], _last_line(p["log"])))


def _last_line(path):
    try:
        lines = [ln for ln in Path(path).read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " (last line: %s)" % lines[-1][:300] if lines else ""


def stop():
    """Remove the test containers and stop dockerd; never fails when nothing runs."""
    pid = _pid()
    if not pid:
        return
    try:
        ids = docker("ps", "-aq", check=False, timeout=20).stdout.split()
        if ids:
            docker("rm", "-f", *ids, check=False, timeout=60)
    except (DockerdError, subprocess.TimeoutExpired):
        pass
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _pid() != pid:
                return
            try:
                os.waitpid(pid, os.WNOHANG)
            except (ChildProcessError, OSError):
                pass
            time.sleep(0.1)


def ensure_image():
    """Import the busybox-static rootfs as IMAGE unless it exists."""
    if docker("image", "inspect", IMAGE, check=False).returncode == 0:
        return IMAGE
    busybox = next((b for b in BUSYBOX_PATHS if os.path.isfile(b)), None)
    if not busybox:
        raise DockerdError("busybox not found: install the Debian package busybox-static")
    with tempfile.TemporaryDirectory() as tmp:
        tarball = os.path.join(tmp, "rootfs.tar")
        with tarfile.open(tarball, "w") as tar:
            for directory in ("bin", "tmp"):
                info = tarfile.TarInfo(directory)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            tar.add(busybox, arcname="bin/busybox")
            for applet in ("sh", "echo", "printf", "sleep", "cat"):
                link = tarfile.TarInfo("bin/" + applet)
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
        docker("import", tarball, IMAGE, timeout=120)
    return IMAGE


def run_container(name, script):
    """(Re)create container ``name`` running ``/bin/sh -c script`` (no network), then idle."""
    ensure_image()
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--network", "none", IMAGE, "/bin/sh", "-c", script + "\nexec sleep 3600")
    return name


def main(argv):
    try:
        if argv[:1] == ["start"]:
            print(start())
        elif argv[:1] == ["image"]:
            print(ensure_image())
        elif argv[:1] == ["stop"]:
            stop()
        else:
            print(__doc__.split("\n\n")[1])
            return 2
    except DockerdError as exc:
        print("dockerd: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

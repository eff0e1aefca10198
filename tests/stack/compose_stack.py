"""The reference compose project for the rollback (runbook 8.3) on the project's own dockerd.

CLI:
    compose_stack.py images                          # builds solvereign/api:v3.6.2 v3.6.9 v3.6.10 v3.7.0
    compose_stack.py deploy DIR [--variant literal|env] [--tag v3.7.0]
    compose_stack.py origin PATH                     # bare origin with the rollback tags
    compose_stack.py health                          # GET /api/health of the deployed api

Python:
    import compose_stack
    compose_stack.build_images()
    compose_stack.deploy("/tmp/project", variant="env", tag="v3.7.0")
    compose_stack.health()                           # {"status": "ok", "version": "3.7.0", ...}
    compose_stack.service_container("/tmp/project")  # {"id": ..., "image": ..., "state": ...}

Each image ``solvereign/api:<tag>`` is a ``docker import`` of a rootfs holding only the static
busybox and ``/www/api/health``, served by busybox ``httpd`` on 127.0.0.1:$API_PORT
(``network_mode: host``: dockerd runs with ``--bridge=none``). The answer is
``{"status":"ok","version":"3.6.10","commit":"..."}`` with the image's own version. No registry.

Two compose projects live in ``compose/``: ``literal`` pins ``image: solvereign/api:v3.7.0``,
``env`` takes the tag from ``API_TAG`` in ``.env``. ``deploy`` copies one into DIR, writes
``.env`` (``API_PORT``, and ``API_TAG`` for ``env``) and runs ``docker-compose up -d``.

The port is ``$SOLVEREIGN_STACK_COMPOSE_API_PORT`` (default 18180); the engine is
tests/stack/dockerd.py's (``$SOLVEREIGN_STACK_DIR``).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dockerd  # noqa: E402
import origin  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COMPOSE_DIR = os.path.join(HERE, "compose")
REPOSITORY = "solvereign/api"
IMAGE_TAGS = ("v3.6.2", "v3.6.9", "v3.6.10", "v3.7.0")
ORIGIN_TAGS = ("v3.6.2", "v3.6.9", "v3.6.10", "v3.6.11-rc1", "v3.7.0")
VARIANTS = ("literal", "env")


class ComposeStackError(RuntimeError):
    """An expected failure with a one-line explanation."""


def api_port():
    return int(os.environ.get("SOLVEREIGN_STACK_COMPOSE_API_PORT") or 18180)


def api_url():
    return "http://127.0.0.1:%d" % api_port()


def commit_of(tag):
    """The (made-up, stable) commit an image of ``tag`` reports."""
    return hashlib.sha1(("solvereign " + tag).encode()).hexdigest()


def image_name(tag):
    return "%s:%s" % (REPOSITORY, tag)


def build_image(tag, force=False):
    """Import ``solvereign/api:<tag>`` unless it exists; return its name."""
    name = image_name(tag)
    if not force and dockerd.docker("image", "inspect", name, check=False).returncode == 0:
        return name
    busybox = next((b for b in dockerd.BUSYBOX_PATHS if os.path.isfile(b)), None)
    if not busybox:
        raise ComposeStackError("busybox not found: install the Debian package busybox-static")
    body = json.dumps({"status": "ok", "version": tag.lstrip("v"), "commit": commit_of(tag)}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = os.path.join(tmp, "rootfs.tar")
        with tarfile.open(tarball, "w") as tar:
            for directory in ("bin", "tmp", "www", "www/api"):
                info = tarfile.TarInfo(directory)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            tar.add(busybox, arcname="bin/busybox")
            for applet in ("sh", "httpd", "cat", "echo", "sleep"):
                link = tarfile.TarInfo("bin/" + applet)
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
            info = tarfile.TarInfo("www/api/health")
            info.size, info.mode = len(body), 0o644
            with open(os.path.join(tmp, "health"), "wb") as fh:
                fh.write(body)
            with open(os.path.join(tmp, "health"), "rb") as fh:
                tar.addfile(info, fh)
        dockerd.docker("import", "--change", 'CMD ["httpd", "-f", "-p", "127.0.0.1:18180", "-h", "/www"]',
                       tarball, name, timeout=120)
    return name


def build_images(tags=IMAGE_TAGS):
    dockerd.start()
    return [build_image(tag) for tag in tags]


def _compose(project_dir, *args, check=True, timeout=120):
    env = dict(os.environ, DOCKER_HOST=dockerd.docker_host())
    binary = shutil.which("docker-compose")
    if not binary:
        raise ComposeStackError("docker-compose not found: install the Debian package docker-compose")
    proc = subprocess.run([binary, "--project-directory", project_dir, "-f",
                           os.path.join(project_dir, "docker-compose.yml")] + list(args),
                          cwd=project_dir, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise ComposeStackError("docker-compose %s failed: %s" % (" ".join(args), proc.stderr.strip()[-600:]))
    return proc


def project_name(project_dir):
    """The compose project name of ``project_dir`` (its base name, as compose derives it)."""
    base = os.path.basename(os.path.abspath(project_dir)).lower()
    return "".join(c for c in base if c.isalnum() or c in "-_")


def deploy(project_dir, variant="literal", tag="v3.7.0", wait=True):
    """Write the compose project ``variant`` into ``project_dir`` and ``up -d`` it at ``tag``."""
    if variant not in VARIANTS:
        raise ComposeStackError("unknown variant %r; valid: %s" % (variant, ", ".join(VARIANTS)))
    build_images()
    down(project_dir)
    os.makedirs(project_dir, exist_ok=True)
    for leftover in os.listdir(project_dir):
        if leftover.startswith("docker-compose") or leftover == ".env":
            os.remove(os.path.join(project_dir, leftover))
    with open(os.path.join(COMPOSE_DIR, variant, "docker-compose.yml")) as fh:
        text = fh.read()
    if variant == "literal":
        text = text.replace("solvereign/api:v3.7.0", image_name(tag))
    with open(os.path.join(project_dir, "docker-compose.yml"), "w") as fh:
        fh.write(text)
    lines = ["API_PORT=%d" % api_port()]
    if variant == "env":
        lines.append("API_TAG=%s" % tag)
    with open(os.path.join(project_dir, ".env"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    _compose(project_dir, "up", "-d", "--force-recreate")
    if wait:
        wait_for_version(tag.lstrip("v"))
    return service_container(project_dir)


def down(project_dir):
    """Remove the project's containers (nothing to do when none exist)."""
    if not os.path.isfile(os.path.join(project_dir, "docker-compose.yml")) or not dockerd.running():
        return
    _compose(project_dir, "down", "--remove-orphans", "--timeout", "1", check=False)


def service_container(project_dir, service="api"):
    """The container of ``service``: id, image, state, labels; None when there is none."""
    proc = dockerd.docker("ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % project_name(project_dir),
                          "--filter", "label=com.docker.compose.service=%s" % service)
    ids = proc.stdout.split()
    if not ids:
        return None
    info = json.loads(dockerd.docker("inspect", ids[0]).stdout)[0]
    return {"id": info["Id"], "image": info["Config"]["Image"], "state": info["State"]["Status"],
            "labels": info["Config"].get("Labels") or {}, "name": info["Name"].lstrip("/")}


def health(timeout=2.0):
    with urllib.request.urlopen(api_url() + "/api/health", timeout=timeout) as resp:
        return json.loads(resp.read().decode())


def wait_for_version(version, timeout=20.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = health()
            if last.get("version") == version:
                return last
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise ComposeStackError("/api/health did not report %s within %.0f s (last: %s)" % (version, timeout, last))


def create_origin(path, tags=ORIGIN_TAGS):
    """A bare origin with one annotated tag per release of ``tags``, in that order of commits."""
    shutil.rmtree(path, ignore_errors=True)
    work = tempfile.mkdtemp(prefix="solvereign-rollback-origin-")
    commits = {}
    try:
        origin._git(["init", "-q", "-b", "main", work], work)
        for day, tag in enumerate(tags, start=1):
            date = "2026-01-%02dT10:00:00+00:00" % day
            commits[tag] = origin._commit(work, "VERSION", tag.lstrip("v") + "\n", "release %s" % tag, date)
            title = "Release candidate" if "-rc" in tag else "GA Release"
            origin._git(["tag", "-a", tag, "-m", "%s: SOLVEREIGN %s" % (title, tag)], work, date)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        origin._git(["clone", "-q", "--bare", work, path], os.path.dirname(os.path.abspath(path)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return commits


def main(argv):
    try:
        if argv[:1] == ["images"]:
            print("\n".join(build_images()))
        elif argv[:1] == ["deploy"] and len(argv) >= 2:
            variant, tag = "literal", "v3.7.0"
            rest = argv[2:]
            while rest:
                if rest[0] == "--variant" and len(rest) > 1:
                    variant, rest = rest[1], rest[2:]
                elif rest[0] == "--tag" and len(rest) > 1:
                    tag, rest = rest[1], rest[2:]
                else:
                    raise ComposeStackError("unknown argument %r" % rest[0])
            print(json.dumps(deploy(os.path.abspath(argv[1]), variant=variant, tag=tag)))
        elif argv[:1] == ["origin"] and len(argv) == 2:
            print(json.dumps(create_origin(os.path.abspath(argv[1]))))
        elif argv[:1] == ["health"]:
            print(json.dumps(health()))
        else:
            print(__doc__.split("\n\n")[1])
            return 2
    except (ComposeStackError, dockerd.DockerdError) as exc:
        print("compose_stack: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

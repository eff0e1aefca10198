"""Control the SOLVEREIGN reference stack: PostgreSQL, the API stand-in, Prometheus.

CLI:
    stackctl.py start [--faults a,b] [--components db,api,prometheus,sentry]
    stackctl.py stop
    stackctl.py status
    stackctl.py restart-api [--faults a,b]
    stackctl.py reset-db [--faults a,b]
    stackctl.py env

Python:
    import stackctl
    stackctl.start(faults=("weak_hsts",), components=("db", "api", "prometheus"))
    info = stackctl.env()
    stackctl.stop()

Everything binds to 127.0.0.1.  State, logs and data live in
$SOLVEREIGN_STACK_DIR (default /tmp/solvereign-stack).  Expected failures raise
StackError (CLI: one-line message, exit status 1).

Stdlib only: the API is launched with the interpreter running this file
(sys.executable), which must have the packages of requirements-test.txt.
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import dockerd  # noqa: E402
import faults as fault_catalog  # noqa: E402
from origin import ORIGIN_FAULTS, create_origin  # noqa: E402

API_FAULTS = fault_catalog.API_FAULTS
DB_FAULTS = fault_catalog.DB_FAULTS
COMPONENTS = ("db", "api", "prometheus", "sentry", "docker")
# The API runs as a process of the stack; on the project's Docker engine (component "docker") the
# container of this name carries its log stream, so `docker logs solvereign-api` shows the API's logs.
LOG_CONTAINER = "solvereign-api"
LOG_MOUNT = "/var/log/solvereign"

# Fixed test credentials (the stack only listens on 127.0.0.1).
DB_NAME = "solvereign"
ADMIN_USER = "postgres"
PASSWORDS = {
    "admin": "solvereign-admin-test",
    "owner": "solvereign-owner-test",
    "app": "solvereign-app-test",
    "readonly": "solvereign-readonly-test",
    "monitor": "solvereign-monitor-test",
}
LOGIN_EMAIL = "dispatcher@lts.at"
LOGIN_PASSWORD = "Dispatch3r!stack"
WHATSAPP_APP_SECRET = "solvereign-whatsapp-app-secret-test"
WHATSAPP_VERIFY_TOKEN = "solvereign-whatsapp-verify-token-test"
BILLING_WEBHOOK_SECRET = "whsec_solvereign_billing_test"
SENTRY_TOKEN = "sntrys_solvereign_standin_test"
# Used only when no origin was built; normally the API reports the origin's release commit.
COMMIT_SHA = "87b4a59c3e1d2f0a6b7c8d9e0f1a2b3c4d5e6f70"

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
PROMETHEUS_BIN = "/usr/bin/prometheus"

START_TIMEOUT = {"db": 30.0, "api": 20.0, "prometheus": 30.0}


class StackError(RuntimeError):
    """An expected failure with a one-line explanation."""


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
def _port(name, default):
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise StackError("%s must be a port number, got %r" % (name, raw))
    if not 1 <= value <= 65535:
        raise StackError("%s must be a port number, got %r" % (name, raw))
    return value


def _max_connections():
    raw = os.environ.get("SOLVEREIGN_STACK_PG_MAX_CONNECTIONS", "100")
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 20 <= value <= 2000:
        raise StackError("SOLVEREIGN_STACK_PG_MAX_CONNECTIONS must be a number from 20 to 2000, got %r" % raw)
    return value


def _config():
    state = Path(os.environ.get("SOLVEREIGN_STACK_DIR") or "/tmp/solvereign-stack").resolve()
    return {
        "state": state,
        "api_port": _port("SOLVEREIGN_STACK_API_PORT", 18080),
        "pg_port": _port("SOLVEREIGN_STACK_PG_PORT", 15432),
        "prom_port": _port("SOLVEREIGN_STACK_PROM_PORT", 19090),
        "sentry_port": _port("SOLVEREIGN_STACK_SENTRY_PORT", 19091),
        "pg_max_connections": _max_connections(),
        "pg_data": state / "pg",
        "pg_socket": state / "pgsocket",
        "logs": state / "logs",
        "api_pid": state / "api.pid",
        "prom_pid": state / "prometheus.pid",
        "sentry_pid": state / "sentry.pid",
        "prom_data": state / "prometheus-data",
        "prom_config": state / "prometheus.yml",
        "sendgrid_private": state / "sendgrid_private_key.pem",
        "sendgrid_public": state / "sendgrid_public_key.b64",
        "state_file": state / "stack.json",
    }


def _dsn(user, password, port, dbname=DB_NAME):
    return "postgresql://%s:%s@127.0.0.1:%d/%s" % (user, password, port, dbname)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def _log_hint(path):
    try:
        lines = [ln.strip() for ln in Path(path).read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    last = (" (last log line: %s)" % lines[-1][:300]) if lines else ""
    return "see %s%s" % (path, last)


def _pg_bin(name):
    for d in PG_BIN_DIRS:
        p = Path(d) / name
        if p.is_file() and os.access(str(p), os.X_OK):
            return str(p)
    found = shutil.which(name)
    if not found:
        raise StackError("PostgreSQL binary %r not found (install the Debian package postgresql-15)" % name)
    return found


def _prometheus_bin():
    override = os.environ.get("SOLVEREIGN_STACK_PROMETHEUS_BIN")
    if override:
        path = override if os.access(override, os.X_OK) else None
    else:
        path = PROMETHEUS_BIN if os.access(PROMETHEUS_BIN, os.X_OK) else shutil.which("prometheus")
    if not path:
        raise StackError("prometheus binary not found: install the Debian package `prometheus` "
                         "(apt-get install prometheus)")
    return path


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _require_port(port, what, env_name):
    if not _port_free(port):
        raise StackError("port 127.0.0.1:%d needed by %s is already in use (stop the other process or set %s)"
                         % (port, what, env_name))


def _http_status(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _read_pid(path):
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _proc_alive(pid, marker=None):
    """True if pid runs (not a zombie) and its command line contains marker."""
    if not pid or pid <= 0:
        return False
    try:
        with open("/proc/%d/stat" % pid) as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                _reap(pid)
                return False
        if marker:
            with open("/proc/%d/cmdline" % pid, "rb") as fh:
                if marker.encode() not in fh.read():
                    return False
        return True
    except (OSError, IndexError):
        return False


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def _terminate(pid, marker, grace=3.0):
    """SIGTERM the process (group), SIGKILL after grace seconds. Never raises."""
    if not _proc_alive(pid, marker):
        return
    try:
        use_group = os.getpgid(pid) == pid
    except OSError:
        use_group = False

    def _send(sig):
        try:
            if use_group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except OSError:
            pass

    _send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not _proc_alive(pid, marker):
            return
        time.sleep(0.05)
    _send(signal.SIGKILL)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        _reap(pid)
        if not _proc_alive(pid, marker):
            return
        time.sleep(0.05)


def _load_state(cfg):
    try:
        return json.loads(cfg["state_file"].read_text())
    except (OSError, ValueError):
        return {}


def _save_state(cfg, **updates):
    state = _load_state(cfg)
    state.update(updates)
    cfg["state_file"].write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def _release_commit(cfg):
    return os.environ.get("SOLVEREIGN_COMMIT_SHA") or _load_state(cfg).get("release_commit") or COMMIT_SHA


def _split_origin_faults(faults):
    """(origin faults, the others) of a fault list."""
    faults = [f.strip() for f in (faults or ()) if f and f.strip()]
    return [f for f in faults if f in ORIGIN_FAULTS], [f for f in faults if f not in ORIGIN_FAULTS]


def _build_origin(cfg, origin_faults):
    """(Re)create the bare git origin with the release tags; remember the release commit."""
    try:
        info = create_origin(str(cfg["state"] / "origin.git"), origin_faults)
    except (OSError, subprocess.SubprocessError) as exc:
        raise StackError("cannot build the git origin in %s: %s (is git installed?)" % (cfg["state"], exc))
    _save_state(cfg, release_commit=info["release_commit"], origin_faults=list(origin_faults))


def _write_env_file(cfg):
    """env.json: what inventories/local reads to point at this stack."""
    path = cfg["state"] / "env.json"
    path.write_text(json.dumps(env(), indent=2) + "\n")
    os.chmod(str(path), 0o600)


def _split_faults(faults, allowed=None):
    try:
        api, db = fault_catalog.split_faults(faults or ())
    except ValueError as exc:
        raise StackError(str(exc))
    if allowed == "api" and db:
        raise StackError("DB fault(s) %s cannot be applied by restart-api; use reset-db --faults"
                         % ", ".join(db))
    if allowed == "db" and api:
        raise StackError("API fault(s) %s cannot be applied by reset-db; use restart-api --faults"
                         % ", ".join(api))
    return api, db


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------
def _pg_account():
    """(uid, gid, name) of the OS account that runs PostgreSQL."""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return pw.pw_uid, pw.pw_gid, pw.pw_name
    for name in ("postgres", "solvereign"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid, pw.pw_name
        except KeyError:
            continue
    useradd = shutil.which("useradd")
    if not useradd:
        raise StackError("running as root and no 'postgres' user exists; cannot create one (useradd missing)")
    res = subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "solvereign"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if res.returncode != 0:
        raise StackError("useradd solvereign failed: %s" % res.stdout.strip())
    pw = pwd.getpwnam("solvereign")
    return pw.pw_uid, pw.pw_gid, pw.pw_name


def _run_as_pg(cmd, timeout, **kwargs):
    uid, gid = _pg_account()[:2]
    if os.geteuid() == 0:
        kwargs.update(user=uid, group=gid, extra_groups=[])
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout, cwd="/", **kwargs, check=False)
    except subprocess.TimeoutExpired:
        raise StackError("%s timed out after %.0f s" % (os.path.basename(cmd[0]), timeout))


def _chown(path, uid, gid):
    if os.geteuid() == 0:
        os.chown(str(path), uid, gid)


def _pg_running(cfg):
    pid = _read_pid(cfg["pg_data"] / "postmaster.pid")
    return pid if _proc_alive(pid, "postgres") else None


def _stop_db(cfg):
    pid = _pg_running(cfg)
    if not pid:
        return
    try:
        _run_as_pg([_pg_bin("pg_ctl"), "stop", "-D", str(cfg["pg_data"]), "-m", "fast", "-w", "-t", "15"], 25)
    except StackError:
        pass
    if _proc_alive(pid, "postgres"):
        _terminate(pid, "postgres", grace=5.0)


def _start_db(cfg):
    uid, gid, account = _pg_account()
    data, sock, logs = cfg["pg_data"], cfg["pg_socket"], cfg["logs"]
    # PostgreSQL runs as an unprivileged account: it must reach the state dir.
    probe = _run_as_pg(["test", "-x", str(cfg["state"])], 10) if os.geteuid() == 0 else None
    if probe is not None and probe.returncode != 0:
        raise StackError("OS user %r cannot enter %s; choose a SOLVEREIGN_STACK_DIR readable by it"
                         % (account, cfg["state"]))
    for d in (data, sock):
        d.mkdir(mode=0o700, exist_ok=True)
        _chown(d, uid, gid)
    pg_log = logs / "postgres.log"
    if not pg_log.exists():
        pg_log.touch()
    _chown(pg_log, uid, gid)

    if not (data / "PG_VERSION").exists():
        for child in data.iterdir():
            raise StackError("%s is not empty but holds no PostgreSQL cluster; remove it" % data)
        res = _run_as_pg([_pg_bin("initdb"), "-D", str(data), "-U", ADMIN_USER, "-E", "UTF8", "--no-locale",
                          "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"], 120)
        if res.returncode != 0:
            (logs / "initdb.log").write_text(res.stdout)
            raise StackError("initdb failed; %s" % _log_hint(logs / "initdb.log"))
        conf = data / "postgresql.conf"
        with open(conf, "a") as fh:
            fh.write("\ninclude_if_exists = 'stack.conf'\n")
    # Settings that depend on this run (ports, paths) are rewritten every start.
    (data / "stack.conf").write_text(
        "listen_addresses = '127.0.0.1'\n"
        "port = %d\n"
        "unix_socket_directories = '%s'\n"
        "password_encryption = 'scram-sha-256'\n"
        "max_connections = %d\n"
        "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        "shared_buffers = '64MB'\n"
        "log_min_messages = warning\nlog_line_prefix = '%%m [%%p] %%q%%u@%%d '\n"
        % (cfg["pg_port"], str(sock).replace("'", "''"), cfg["pg_max_connections"])
    )
    (data / "pg_hba.conf").write_text(
        "# local socket (inside the state dir): trust; TCP on loopback: passwords\n"
        "local   all   all                 trust\n"
        "host    all   all   127.0.0.1/32  scram-sha-256\n"
    )
    for f in ("stack.conf", "pg_hba.conf"):
        _chown(data / f, uid, gid)

    res = _run_as_pg([_pg_bin("pg_ctl"), "start", "-D", str(data), "-l", str(pg_log), "-w",
                      "-t", str(int(START_TIMEOUT["db"]))], START_TIMEOUT["db"] + 10)
    if res.returncode != 0:
        last_line = res.stdout.strip().splitlines()[-1:] or ""
        raise StackError("PostgreSQL did not start (%s); %s" % (last_line, _log_hint(pg_log)))
    deadline = time.monotonic() + START_TIMEOUT["db"]
    isready = _pg_bin("pg_isready")
    while True:
        r = subprocess.run([isready, "-q", "-h", "127.0.0.1", "-p", str(cfg["pg_port"]), "-d", "postgres",
                            "-t", "2"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
        if r.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise StackError("PostgreSQL not ready on 127.0.0.1:%d within %.0f s; %s"
                             % (cfg["pg_port"], START_TIMEOUT["db"], _log_hint(pg_log)))
        time.sleep(0.2)


def _psql(cfg, user, dbname, sql=None, sql_file=None, variables=None, single_transaction=False):
    cmd = [_pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(cfg["pg_socket"]),
           "-p", str(cfg["pg_port"]), "-U", user, "-d", dbname]
    if single_transaction:
        cmd.append("-1")
    for k, v in (variables or {}).items():
        cmd += ["-v", "%s=%s" % (k, v)]
    cmd += ["-f", str(sql_file) if sql_file else "-"]
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    env.pop("PGPASSWORD", None)
    try:
        res = subprocess.run(cmd, input=sql if sql_file is None else None, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=60, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise StackError("psql as %s on %s timed out" % (user, dbname))
    if res.returncode != 0:
        lines = [ln for ln in res.stdout.strip().splitlines() if ln.strip()]
        raise StackError("SQL as %s on %s failed: %s" % (user, dbname, lines[-1] if lines else "psql error"))
    return res.stdout


def _load_database(cfg, db_faults):
    if not _pg_running(cfg):
        raise StackError("PostgreSQL of %s is not running (run: stackctl.py start)" % cfg["state"])
    _psql(cfg, ADMIN_USER, "postgres", sql_file=HERE / "db" / "roles.sql",
          variables={"%s_pw" % k: v for k, v in PASSWORDS.items()})
    _psql(cfg, "solvereign_owner", DB_NAME, sql_file=HERE / "db" / "schema.sql", single_transaction=True)
    for name in db_faults:
        _psql(cfg, "solvereign_owner", DB_NAME, sql=DB_FAULTS[name][1], single_transaction=True)


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def _api_pid(cfg):
    pid = _read_pid(cfg["api_pid"])
    return pid if _proc_alive(pid, "app.py") else None


def _stop_api(cfg):
    pid = _read_pid(cfg["api_pid"])
    if pid:
        _terminate(pid, "app.py", grace=1.5)
    try:
        cfg["api_pid"].unlink()
    except OSError:
        pass


def _ensure_sendgrid_keys(cfg):
    if cfg["sendgrid_private"].exists() and cfg["sendgrid_public"].exists():
        return
    res = subprocess.run([sys.executable, str(HERE / "api" / "sendgrid_keys.py"), str(cfg["sendgrid_private"]),
                          str(cfg["sendgrid_public"])], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=60, check=False)
    if res.returncode != 0:
        lines = res.stdout.strip().splitlines()
        raise StackError("cannot generate the SendGrid key pair with %s: %s"
                         % (sys.executable, lines[-1] if lines else "error"))


def _start_api(cfg, api_faults):
    _require_port(cfg["api_port"], "the API", "SOLVEREIGN_STACK_API_PORT")
    _ensure_sendgrid_keys(cfg)
    env = dict(os.environ)
    env.update({
        "SOLVEREIGN_API_PORT": str(cfg["api_port"]),
        "SOLVEREIGN_APP_DSN": _dsn("solvereign_app", PASSWORDS["app"], cfg["pg_port"]),
        "SOLVEREIGN_MONITOR_DSN": _dsn("solvereign_monitor", PASSWORDS["monitor"], cfg["pg_port"], "postgres"),
        "SOLVEREIGN_SENDGRID_PUBLIC_KEY": cfg["sendgrid_public"].read_text().strip(),
        "SOLVEREIGN_WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
        "SOLVEREIGN_WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
        "SOLVEREIGN_BILLING_WEBHOOK_SECRET": BILLING_WEBHOOK_SECRET,
        "SOLVEREIGN_FAULTS": ",".join(api_faults),
        "SOLVEREIGN_COMMIT_SHA": _release_commit(cfg),
        "PYTHONUNBUFFERED": "1",
    })
    log_path = cfg["logs"] / "api.log"
    with open(log_path, "ab") as log_fh:
        log_fh.write(("--- %s starting API, faults: %s\n"
                      % (time.strftime("%Y-%m-%dT%H:%M:%S"), ",".join(api_faults) or "none")).encode())
        log_fh.flush()
        proc = subprocess.Popen([sys.executable, str(HERE / "api" / "app.py")], cwd=str(HERE / "api"),
                                stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
    cfg["api_pid"].write_text("%d\n" % proc.pid)
    url = "http://127.0.0.1:%d/api/health/live" % cfg["api_port"]
    deadline = time.monotonic() + START_TIMEOUT["api"]
    while True:
        code = proc.poll()
        if code is not None:
            raise StackError("API exited with status %d during start; %s" % (code, _log_hint(log_path)))
        if _http_status(url, timeout=0.5) == 200:
            break
        if time.monotonic() > deadline:
            raise StackError("API not ready (GET %s != 200) within %.0f s; %s"
                             % (url, START_TIMEOUT["api"], _log_hint(log_path)))
        time.sleep(0.05)
    _save_state(cfg, api_faults=list(api_faults))


# ---------------------------------------------------------------------------
# Docker engine and the API's log container
# ---------------------------------------------------------------------------
def _start_log_container(cfg, from_start=True):
    """dockerd of this state dir, and the container that streams the API's log (tail -F): the
    whole log of this start, or (``from_start=False``) only what the API logs from now on."""
    try:
        dockerd.start()
        image = dockerd.ensure_image()
        dockerd.docker("rm", "-f", LOG_CONTAINER, check=False)
        dockerd.docker("run", "-d", "--name", LOG_CONTAINER, "--network", "none", "--restart", "no",
                       "-v", "%s:%s:ro" % (cfg["logs"], LOG_MOUNT), image, "/bin/busybox", "tail",
                       "-n", "+1" if from_start else "0", "-F", "%s/api.log" % LOG_MOUNT)
    except (dockerd.DockerdError, subprocess.SubprocessError, OSError) as exc:
        raise StackError("the docker component did not start: %s" % exc)


def start_log_container(from_start=True):
    """Add the docker component to a running stack (see _start_log_container)."""
    cfg = _config()
    if not _api_pid(cfg):
        raise StackError("the docker component carries the API's logs: start the stack's API first")
    _start_log_container(cfg, from_start)
    components = _load_state(cfg).get("components") or []
    _save_state(cfg, components=[c for c in components if c != "docker"] + ["docker"])
    _write_env_file(cfg)
    return status()


def stop_log_container():
    """Remove the API's log container, leaving the Docker engine (and other containers) running."""
    cfg = _config()
    try:
        if dockerd.running():
            dockerd.docker("rm", "-f", LOG_CONTAINER, check=False)
    except (dockerd.DockerdError, subprocess.SubprocessError, OSError):
        pass
    _save_state(cfg, components=[c for c in _load_state(cfg).get("components") or [] if c != "docker"])
    _write_env_file(cfg)


def _log_container_running():
    try:
        if not dockerd.running():
            return False
        proc = dockerd.docker("inspect", "-f", "{{.State.Running}}", LOG_CONTAINER, check=False, timeout=10)
    except (dockerd.DockerdError, subprocess.SubprocessError, OSError):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def _stop_docker():
    try:
        dockerd.stop()
    except (dockerd.DockerdError, subprocess.SubprocessError, OSError):
        pass


# ---------------------------------------------------------------------------
# Prometheus
# ---------------------------------------------------------------------------
def _stop_prometheus(cfg):
    pid = _read_pid(cfg["prom_pid"])
    if pid:
        _terminate(pid, "prometheus", grace=5.0)
    try:
        cfg["prom_pid"].unlink()
    except OSError:
        pass


def _start_prometheus(cfg):
    binary = _prometheus_bin()
    _require_port(cfg["prom_port"], "Prometheus", "SOLVEREIGN_STACK_PROM_PORT")
    cfg["prom_config"].write_text(
        "global:\n"
        "  scrape_interval: 2s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 2s\n"
        "scrape_configs:\n"
        "  - job_name: solvereign-api\n"
        "    scrape_interval: 2s\n"
        "    metrics_path: /metrics\n"
        "    static_configs:\n"
        "      - targets: ['127.0.0.1:%d']\n" % cfg["api_port"]
    )
    # Fresh TSDB on every start: earlier runs (and their faults) must not leak into rates.
    shutil.rmtree(cfg["prom_data"], ignore_errors=True)
    cfg["prom_data"].mkdir()
    log_path = cfg["logs"] / "prometheus.log"
    with open(log_path, "ab") as log_fh:
        proc = subprocess.Popen(
            [binary, "--config.file=%s" % cfg["prom_config"], "--storage.tsdb.path=%s" % cfg["prom_data"],
             "--storage.tsdb.retention.time=1d", "--web.listen-address=127.0.0.1:%d" % cfg["prom_port"],
             "--log.level=warn"],
            cwd=str(cfg["state"]), stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
            start_new_session=True)
    cfg["prom_pid"].write_text("%d\n" % proc.pid)
    url = "http://127.0.0.1:%d/-/ready" % cfg["prom_port"]
    deadline = time.monotonic() + START_TIMEOUT["prometheus"]
    while True:
        code = proc.poll()
        if code is not None:
            raise StackError("Prometheus exited with status %d during start; %s" % (code, _log_hint(log_path)))
        if _http_status(url, timeout=0.5) == 200:
            return
        if time.monotonic() > deadline:
            raise StackError("Prometheus not ready (GET %s != 200) within %.0f s; %s"
                             % (url, START_TIMEOUT["prometheus"], _log_hint(log_path)))
        time.sleep(0.1)


def _wait_for_scrapes(cfg, scrapes=3, timeout=30.0):
    """Rates need several scrapes: wait (bounded) until Prometheus has scraped the API enough."""
    _wait_for_query(cfg, 'count_over_time(up{job="solvereign-api"}[1m]) >= %d' % scrapes, timeout,
                    "Prometheus to scrape the API %d times" % scrapes)


def _wait_for_query(cfg, query, timeout, what):
    """Poll Prometheus (bounded) until ``query`` returns a sample."""
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (cfg["prom_port"], urllib.parse.urlencode({"query": query}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if json.load(answer)["data"]["result"]:
                    return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise StackError("waited %.0f s for %s (%s); %s" % (timeout, what, query, _log_hint(cfg["logs"] / "prometheus.log")))


# ---------------------------------------------------------------------------
# Sentry web API stand-in (Sentry itself cannot run here)
# ---------------------------------------------------------------------------
def _stop_sentry(cfg):
    pid = _read_pid(cfg["sentry_pid"])
    if pid:
        _terminate(pid, "sentry_standin")
    try:
        cfg["sentry_pid"].unlink()
    except OSError:
        pass


def _start_sentry(cfg):
    _require_port(cfg["sentry_port"], "the Sentry stand-in", "SOLVEREIGN_STACK_SENTRY_PORT")
    log_path = cfg["logs"] / "sentry.log"
    with open(log_path, "ab") as log_fh:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "sentry_standin.py"), "--port", str(cfg["sentry_port"]),
             "--token", SENTRY_TOKEN], cwd=str(HERE), stdin=subprocess.DEVNULL, stdout=log_fh,
            stderr=subprocess.STDOUT, start_new_session=True)
    cfg["sentry_pid"].write_text("%d\n" % proc.pid)
    url = "http://127.0.0.1:%d/api/0/" % cfg["sentry_port"]
    deadline = time.monotonic() + 10.0
    while _http_status(url, timeout=0.5) is None:
        if proc.poll() is not None:
            raise StackError("the Sentry stand-in exited with status %d during start; %s"
                             % (proc.returncode, _log_hint(log_path)))
        if time.monotonic() > deadline:
            raise StackError("the Sentry stand-in did not answer within 10 s; %s" % _log_hint(log_path))
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
def start(faults=(), components=COMPONENTS):
    """Stop leftovers of this state dir, then start the selected components."""
    cfg = _config()
    origin_faults, faults = _split_origin_faults(faults)
    api_faults, db_faults = _split_faults(faults)
    if isinstance(components, str):
        components = [c.strip() for c in components.split(",") if c.strip()]
    unknown = [c for c in components if c not in COMPONENTS]
    if unknown or not components:
        raise StackError("unknown component(s) %s; valid: %s" % (", ".join(unknown) or "(none given)",
                                                                 ", ".join(COMPONENTS)))
    if db_faults and "db" not in components:
        raise StackError("DB faults need the db component")
    stop()
    for d in (cfg["state"], cfg["logs"]):
        d.mkdir(parents=True, exist_ok=True)
    os.chmod(str(cfg["state"]), 0o755)
    # Check prerequisites before starting anything.
    if "db" in components:
        for b in ("initdb", "pg_ctl", "postgres", "psql", "pg_isready"):
            _pg_bin(b)
        _require_port(cfg["pg_port"], "PostgreSQL", "SOLVEREIGN_STACK_PG_PORT")
    if "prometheus" in components:
        _prometheus_bin()
        _require_port(cfg["prom_port"], "Prometheus", "SOLVEREIGN_STACK_PROM_PORT")
    if "api" in components:
        _require_port(cfg["api_port"], "the API", "SOLVEREIGN_STACK_API_PORT")
    if "docker" in components and "api" not in components:
        raise StackError("the docker component carries the API's logs: it needs the api component")
    cfg["state_file"].write_text("{}\n")
    _save_state(cfg, components=list(components), api_faults=[], db_faults=[])
    _build_origin(cfg, origin_faults)
    # Each start begins fresh logs for the API and Prometheus (log checks look at this run only).
    for name in ("api.log", "prometheus.log"):
        (cfg["logs"] / name).write_bytes(b"")
    try:
        if "db" in components:
            _start_db(cfg)
            _load_database(cfg, db_faults)
            _save_state(cfg, db_faults=list(db_faults))
        if "api" in components:
            _start_api(cfg, api_faults)
        if "prometheus" in components:
            _start_prometheus(cfg)
        if "sentry" in components:
            _start_sentry(cfg)
        if "docker" in components:
            _start_log_container(cfg)
        if "prometheus" in components and "api" in components:
            _wait_for_scrapes(cfg)
    except BaseException:
        stop()
        raise
    _write_env_file(cfg)
    return status()


def stop():
    """Stop every component of this state dir; never fails when nothing runs."""
    cfg = _config()
    if not cfg["state"].exists():
        return
    if "docker" in (_load_state(cfg).get("components") or []):
        _stop_docker()
    _stop_sentry(cfg)
    _stop_prometheus(cfg)
    _stop_api(cfg)
    if cfg["pg_data"].exists():
        _stop_db(cfg)


def restart_api(faults=()):
    """Restart only the API, with the given API faults."""
    cfg = _config()
    api_faults = _split_faults(faults, allowed="api")[0]
    if not cfg["state"].exists():
        raise StackError("no stack in %s (run: stackctl.py start)" % cfg["state"])
    cfg["logs"].mkdir(exist_ok=True)
    _stop_api(cfg)
    _start_api(cfg, api_faults)
    return status()


def restart_prometheus(min_request_rate=0.3, window="5m", timeout=120.0):
    """Restart Prometheus on an empty TSDB and wait until the API's request rate over ``window``
    reaches ``min_request_rate``.

    Rates over the checks' window (5m) otherwise still see what earlier faults (a 503 /ready, a
    5xx burst) left in the series. On a new TSDB ``rate(...[5m])`` divides the few seconds of
    samples by the whole window, so it starts near zero and climbs: 7.2's minimum traffic (0.1
    req/s) is only met once enough of the API's background traffic has been scraped."""
    cfg = _config()
    if not cfg["state"].exists():
        raise StackError("no stack in %s (run: stackctl.py start)" % cfg["state"])
    cfg["logs"].mkdir(exist_ok=True)
    _stop_prometheus(cfg)
    _start_prometheus(cfg)
    _wait_for_scrapes(cfg)
    query = 'sum(rate(http_requests_total{job="solvereign-api"}[%s])) >= %s' % (window, min_request_rate)
    _wait_for_query(cfg, query, timeout, "the API's request rate over %s to reach %s req/s" % (window, min_request_rate))
    return status()


def rebuild_origin(faults=()):
    """Recreate the git origin with the given tag faults (the release commit stays the same)."""
    cfg = _config()
    origin_faults, others = _split_origin_faults(faults)
    if others:
        raise StackError("not origin fault(s): %s; valid: %s" % (", ".join(others), ", ".join(ORIGIN_FAULTS)))
    if not cfg["state"].exists():
        raise StackError("no stack in %s (run: stackctl.py start)" % cfg["state"])
    _build_origin(cfg, origin_faults)
    _write_env_file(cfg)
    return status()


def reset_db(faults=()):
    """Recreate the solvereign database from the schema and apply DB faults."""
    cfg = _config()
    db_faults = _split_faults(faults, allowed="db")[1]
    _load_database(cfg, db_faults)
    _save_state(cfg, db_faults=list(db_faults))
    return status()


def status():
    cfg = _config()
    state = _load_state(cfg)
    pg_pid = _pg_running(cfg) if cfg["pg_data"].exists() else None
    api_pid = _api_pid(cfg)
    prom_pid = _read_pid(cfg["prom_pid"])
    prom_pid = prom_pid if _proc_alive(prom_pid, "prometheus") else None
    api_url = "http://127.0.0.1:%d" % cfg["api_port"]
    prom_url = "http://127.0.0.1:%d" % cfg["prom_port"]
    sentry_pid = _read_pid(cfg["sentry_pid"])
    sentry_pid = sentry_pid if _proc_alive(sentry_pid, "sentry_standin") else None
    return {
        "state_dir": str(cfg["state"]),
        "db": {"running": bool(pg_pid), "pid": pg_pid, "port": cfg["pg_port"],
               "faults": state.get("db_faults", []), "log": str(cfg["logs"] / "postgres.log")},
        "api": {"running": bool(api_pid), "pid": api_pid, "url": api_url,
                "live": _http_status(api_url + "/api/health/live") == 200 if api_pid else False,
                "faults": state.get("api_faults", []), "log": str(cfg["logs"] / "api.log")},
        "sentry": {"running": bool(sentry_pid), "pid": sentry_pid,
                   "url": "http://127.0.0.1:%d" % cfg["sentry_port"], "log": str(cfg["logs"] / "sentry.log")},
        "docker": {"running": "docker" in (state.get("components") or []) and _log_container_running(),
                   "pid": None, "url": dockerd.docker_host(), "container": LOG_CONTAINER,
                   "log": str(dockerd.paths()["log"])},
        "prometheus": {"running": bool(prom_pid), "pid": prom_pid, "url": prom_url,
                       "ready": _http_status(prom_url + "/-/ready") == 200 if prom_pid else False,
                       "log": str(cfg["logs"] / "prometheus.log")},
    }


def env():
    cfg = _config()
    components = _load_state(cfg).get("components") or []
    try:
        public_key = cfg["sendgrid_public"].read_text().strip()
    except OSError:
        public_key = None
    port = cfg["pg_port"]
    return {
        "state_dir": str(cfg["state"]),
        "api_url": "http://127.0.0.1:%d" % cfg["api_port"],
        "prometheus_url": "http://127.0.0.1:%d" % cfg["prom_port"],
        "database_url": _dsn("solvereign_readonly", PASSWORDS["readonly"], port),
        "app_database_url": _dsn("solvereign_app", PASSWORDS["app"], port),
        "owner_database_url": _dsn("solvereign_owner", PASSWORDS["owner"], port),
        "admin_database_url": _dsn(ADMIN_USER, PASSWORDS["admin"], port, "postgres"),
        "monitor_database_url": _dsn("solvereign_monitor", PASSWORDS["monitor"], port, "postgres"),
        "pg_socket_dir": str(cfg["pg_socket"]),
        "api_port": cfg["api_port"],
        "pg_port": port,
        "prometheus_port": cfg["prom_port"],
        "prometheus_job": "solvereign-api",
        "sentry_url": ("http://127.0.0.1:%d" % cfg["sentry_port"]
                       if "sentry" in (_load_state(cfg).get("components") or []) else ""),
        "sentry_org": "solvereign",
        "sentry_project": "solvereign-api",
        "sentry_token": SENTRY_TOKEN,
        "release_version": "3.7.0",
        "release_commit": _release_commit(cfg),
        "origin": str(cfg["state"] / "origin.git"),
        "login_email": LOGIN_EMAIL,
        "login_password": LOGIN_PASSWORD,
        "tenant_id": 1,
        "site_id": 10,
        "whatsapp_app_secret": WHATSAPP_APP_SECRET,
        "whatsapp_verify_token": WHATSAPP_VERIFY_TOKEN,
        "billing_webhook_secret": BILLING_WEBHOOK_SECRET,
        "sendgrid_public_key": public_key,
        "sendgrid_private_key_path": str(cfg["sendgrid_private"]),
        "logs_dir": str(cfg["logs"]),
        "docker_host": dockerd.docker_host() if "docker" in components else "",
        "log_containers": [LOG_CONTAINER] if "docker" in components else [],
    }


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def _print_status(st):
    print("state dir: %s" % st["state_dir"])
    db, api, prom = st["db"], st["api"], st["prometheus"]
    print("db          %-8s pid=%-8s 127.0.0.1:%s  faults=%s"
          % ("running" if db["running"] else "stopped", db["pid"] or "-", db["port"], ",".join(db["faults"]) or "none"))
    print("api         %-8s pid=%-8s %s  live=%s  faults=%s"
          % ("running" if api["running"] else "stopped", api["pid"] or "-", api["url"], api["live"],
             ",".join(api["faults"]) or "none"))
    print("prometheus  %-8s pid=%-8s %s  ready=%s"
          % ("running" if prom["running"] else "stopped", prom["pid"] or "-", prom["url"], prom["ready"]))
    sentry = st["sentry"]
    print("sentry      %-8s pid=%-8s %s  (Sentry web API stand-in)"
          % ("running" if sentry["running"] else "stopped", sentry["pid"] or "-", sentry["url"]))
    docker = st["docker"]
    print("docker      %-8s %-12s %s  (container %s streams the API's log)"
          % ("running" if docker["running"] else "stopped", "", docker["url"], docker["container"]))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="stackctl.py", description="SOLVEREIGN reference stack")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="(re)start the stack")
    p.add_argument("--faults", default="", help="comma-separated fault names (API and DB)")
    p.add_argument("--components", default=",".join(COMPONENTS), help="subset of %s" % ",".join(COMPONENTS))
    sub.add_parser("stop", help="stop the stack")
    sub.add_parser("status", help="show what runs")
    p = sub.add_parser("restart-api", help="restart only the API with new API faults")
    p.add_argument("--faults", default="")
    p = sub.add_parser("reset-db", help="recreate the database and apply DB faults")
    p.add_argument("--faults", default="")
    p = sub.add_parser("rebuild-origin", help="recreate the git origin with tag faults")
    p.add_argument("--faults", default="")
    sub.add_parser("env", help="print connection details as JSON")
    sub.add_parser("faults", help="list the fault names")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            _print_status(start(faults=args.faults.split(","), components=args.components.split(",")))
        elif args.command == "stop":
            stop()
        elif args.command == "status":
            st = status()
            _print_status(st)
            wanted = _load_state(_config()).get("components") or list(COMPONENTS)
            return 0 if all(st[c]["running"] for c in wanted) else 3
        elif args.command == "restart-api":
            _print_status(restart_api(faults=args.faults.split(",")))
        elif args.command == "rebuild-origin":
            _print_status(rebuild_origin(faults=args.faults.split(",")))
        elif args.command == "reset-db":
            _print_status(reset_db(faults=args.faults.split(",")))
        elif args.command == "env":
            print(json.dumps(env(), indent=2))
        elif args.command == "faults":
            for name, text in API_FAULTS.items():
                print("api  %-34s %s" % (name, text))
            for name, text in fault_catalog.API_VARIANTS.items():
                print("ui   %-34s %s (a variant: every check still passes)" % (name, text))
            for name, (text, _sql) in DB_FAULTS.items():
                print("db   %-34s %s" % (name, text))
            for name in ORIGIN_FAULTS:
                print("git  %-34s see tests/stack/origin.py" % name)
    except StackError as exc:
        print("stackctl: error: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stackctl: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

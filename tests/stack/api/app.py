"""SOLVEREIGN API stand-in (release 3.7.0) for the reference stack.

Serves the endpoints the release runbook checks, backed by the real
PostgreSQL database of the stack: health probes, cookie sessions, webhook
receivers with real signature verification, a small operator UI and
Prometheus metrics.  Behaviour can be degraded on purpose with the
comma-separated fault names in SOLVEREIGN_FAULTS (see ../faults.py).

Run: python app.py   (configuration from SOLVEREIGN_* environment variables)
"""

import math
import asyncio
import base64
import binascii
import collections
import contextlib
import hashlib
import hmac
import json
import logging
import os
import random
import secrets
import sys
import threading
import time
from pathlib import Path

import psycopg2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import faults as fault_catalog  # noqa: E402

log = logging.getLogger("solvereign.api")

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
VERSION = os.environ.get("SOLVEREIGN_VERSION", "3.7.0")
COMMIT_SHA = os.environ.get("SOLVEREIGN_COMMIT_SHA", "87b4a59c3e1d2f0a6b7c8d9e0f1a2b3c4d5e6f70")
PREVIOUS_VERSION = "3.6.2"
PREVIOUS_COMMIT_SHA = "3f2c9d1b7a6e5d4c3b2a19f8e7d6c5b4a3f2e1d0"
HOST = "127.0.0.1"
PORT = int(os.environ.get("SOLVEREIGN_API_PORT", "18080"))
APP_DSN = os.environ.get(
    "SOLVEREIGN_APP_DSN", "postgresql://solvereign_app@127.0.0.1:15432/solvereign"
)
MONITOR_DSN = os.environ.get("SOLVEREIGN_MONITOR_DSN", "")
SENDGRID_PUBLIC_KEY_B64 = os.environ.get("SOLVEREIGN_SENDGRID_PUBLIC_KEY", "")
WHATSAPP_APP_SECRET = os.environ.get("SOLVEREIGN_WHATSAPP_APP_SECRET", "")
WHATSAPP_VERIFY_TOKEN = os.environ.get("SOLVEREIGN_WHATSAPP_VERIFY_TOKEN", "")
BILLING_WEBHOOK_SECRET = os.environ.get("SOLVEREIGN_BILLING_WEBHOOK_SECRET", "")
SIGNATURE_TOLERANCE_S = 300
TRAFFIC_RPS = float(os.environ.get("SOLVEREIGN_TRAFFIC_RPS", "10"))
TRAFFIC_MAX_SECONDS = float(os.environ.get("SOLVEREIGN_TRAFFIC_MAX_SECONDS", str(12 * 3600)))
SESSION_COOKIE = "__Host-session"
SESSION_TTL_S = 8 * 3600

try:
    FAULTS = set(fault_catalog.split_faults(os.environ.get("SOLVEREIGN_FAULTS", ""))[0])
except ValueError as exc:
    sys.stderr.write("solvereign-api: %s\n" % exc)
    raise SystemExit(2)
_db_only = set(fault_catalog.split_faults(os.environ.get("SOLVEREIGN_FAULTS", ""))[1])
if _db_only:
    sys.stderr.write("solvereign-api: DB faults are applied to the database, not the API: %s\n"
                     % ", ".join(sorted(_db_only)))
    raise SystemExit(2)


def fault(name):
    return name in FAULTS


# ---------------------------------------------------------------------------
# Database access (app role, RLS applies)
# ---------------------------------------------------------------------------
class Database:
    """Small lazily-filled connection pool; every unit of work runs in one transaction."""

    def __init__(self, dsn, maxconn=10):
        self._dsn = dsn
        self._idle = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(maxconn)

    def _get(self):
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
        return psycopg2.connect(self._dsn, connect_timeout=2, application_name="solvereign-api")

    def _put(self, conn, discard=False):
        if discard or conn.closed:
            with contextlib.suppress(Exception):
                conn.close()
            return
        with self._lock:
            self._idle.append(conn)

    def run(self, work, tenant_id=None, user_id=None):
        if not self._slots.acquire(timeout=5):
            raise RuntimeError("database pool exhausted")
        try:
            for attempt in (1, 2):
                conn = self._get()
                try:
                    with conn:
                        with conn.cursor() as cur:
                            if tenant_id is not None:
                                cur.execute("SELECT set_config('app.current_tenant_id', %s, true)", (str(tenant_id),))
                            if user_id is not None:
                                cur.execute("SELECT set_config('app.current_user_id', %s, true)", (str(user_id),))
                            result = work(cur)
                    self._put(conn)
                    return result
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    # Broken connection (database restarted or recreated): drop it, retry once.
                    self._put(conn, discard=True)
                    if attempt == 2:
                        raise
                except Exception:
                    self._put(conn)
                    raise
        finally:
            self._slots.release()


class PgMonitor:
    """postgres_exporter equivalent: a few gauges read live with a monitoring role."""

    STATES = ("active", "idle", "idle in transaction", "idle in transaction (aborted)",
              "fastpath function call", "disabled")

    def __init__(self, dsn):
        self._dsn = dsn
        self._conn = None
        self._lock = threading.Lock()

    def collect(self):
        if not self._dsn:
            return None
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = psycopg2.connect(self._dsn, connect_timeout=1,
                                                      application_name="solvereign-metrics")
                        self._conn.autocommit = True
                    with self._conn.cursor() as cur:
                        cur.execute("SET statement_timeout = '1s'")
                        cur.execute(
                            """
                            SELECT d.datname, s.state, count(a.pid)
                            FROM pg_database d
                            CROSS JOIN unnest(%s::text[]) AS s(state)
                            LEFT JOIN pg_stat_activity a ON a.datname = d.datname AND a.state = s.state
                            WHERE NOT d.datistemplate
                            GROUP BY 1, 2 ORDER BY 1, 2
                            """,
                            (list(self.STATES),),
                        )
                        activity = cur.fetchall()
                        cur.execute("SELECT setting::integer FROM pg_settings WHERE name = 'max_connections'")
                        max_conn = cur.fetchone()[0]
                    return {"activity": activity, "max_connections": max_conn}
                except psycopg2.Error as exc:
                    with contextlib.suppress(Exception):
                        self._conn.close()
                    self._conn = None
                    if attempt == 2:
                        log.warning("pg metrics unavailable: %s", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
                        return None
        return None


db = Database(APP_DSN)
pg_monitor = PgMonitor(MONITOR_DSN)

# ---------------------------------------------------------------------------
# Metrics (Prometheus text exposition format 0.0.4)
# ---------------------------------------------------------------------------
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _esc(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**kv):
    return "{" + ",".join('%s="%s"' % (k, _esc(v)) for k, v in kv.items()) + "}"


def _fmt(v):
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else repr(v)
    return str(v)


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.requests = collections.Counter()          # (method, path, status) -> n
        self.durations = {}                            # (method, path) -> [bucket counts..., sum, count]
        self.webhooks = collections.Counter()          # (provider, outcome) -> n
        self.start_time = time.time()

    def observe(self, method, path, status, seconds):
        with self._lock:
            self.requests[(method, path, str(status))] += 1
            h = self.durations.get((method, path))
            if h is None:
                h = self.durations[(method, path)] = [0] * len(BUCKETS) + [0.0, 0]
            for i, le in enumerate(BUCKETS):
                if seconds <= le:
                    h[i] += 1
            h[-2] += seconds
            h[-1] += 1

    def webhook(self, provider, outcome):
        with self._lock:
            self.webhooks[(provider, outcome)] += 1

    def render(self, pg):
        out = []
        with self._lock:
            out.append("# HELP http_requests_total Total number of HTTP requests by method, route and status.")
            out.append("# TYPE http_requests_total counter")
            for (m, p, s), n in sorted(self.requests.items()):
                out.append("http_requests_total%s %d" % (_labels(method=m, path=p, status=s), n))
            out.append("# HELP http_request_duration_seconds HTTP request latency by method and route.")
            out.append("# TYPE http_request_duration_seconds histogram")
            for (m, p), h in sorted(self.durations.items()):
                for i, le in enumerate(BUCKETS):
                    out.append("http_request_duration_seconds_bucket%s %d"
                               % (_labels(method=m, path=p, le=repr(le)), h[i]))
                out.append("http_request_duration_seconds_bucket%s %d" % (_labels(method=m, path=p, le="+Inf"), h[-1]))
                out.append("http_request_duration_seconds_sum%s %s" % (_labels(method=m, path=p), _fmt(float(h[-2]))))
                out.append("http_request_duration_seconds_count%s %d" % (_labels(method=m, path=p), h[-1]))
            out.append("# HELP solvereign_webhook_events_total Webhook deliveries by provider and outcome.")
            out.append("# TYPE solvereign_webhook_events_total counter")
            for (prov, outcome), n in sorted(self.webhooks.items()):
                out.append("solvereign_webhook_events_total%s %d" % (_labels(provider=prov, outcome=outcome), n))
        version, commit = current_release()
        out.append("# HELP solvereign_build_info Build information of the running API.")
        out.append("# TYPE solvereign_build_info gauge")
        out.append("solvereign_build_info%s 1" % _labels(version=version, commit=commit))
        out.extend(process_metrics(self.start_time))
        out.append("# HELP pg_up Whether the last scrape of PostgreSQL succeeded.")
        out.append("# TYPE pg_up gauge")
        out.append("pg_up %d" % (1 if pg else 0))
        if pg:
            out.append("# HELP pg_stat_activity_count number of connections in this state")
            out.append("# TYPE pg_stat_activity_count gauge")
            for datname, state, n in pg["activity"]:
                out.append("pg_stat_activity_count%s %d" % (_labels(datname=datname, state=state), n))
            out.append("# HELP pg_settings_max_connections Server Parameter: max_connections")
            out.append("# TYPE pg_settings_max_connections gauge")
            out.append("pg_settings_max_connections %d" % pg["max_connections"])
        return "\n".join(out) + "\n"


def process_metrics(start_time):
    out = []
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        with open("/proc/self/statm") as fh:
            vms, rss = (int(x) for x in fh.read().split()[:2])
        out += ["# HELP process_resident_memory_bytes Resident memory size in bytes.",
                "# TYPE process_resident_memory_bytes gauge",
                "process_resident_memory_bytes %d" % (rss * page),
                "# HELP process_virtual_memory_bytes Virtual memory size in bytes.",
                "# TYPE process_virtual_memory_bytes gauge",
                "process_virtual_memory_bytes %d" % (vms * page)]
    except OSError:
        pass
    t = os.times()
    out += ["# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
            "# TYPE process_cpu_seconds_total counter",
            "process_cpu_seconds_total %s" % _fmt(float(t.user + t.system)),
            "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
            "# TYPE process_start_time_seconds gauge",
            "process_start_time_seconds %s" % _fmt(float(start_time))]
    try:
        mem = {}
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, dummy, rest = line.partition(":")
                mem[key] = int(rest.split()[0]) * 1024
        out += ["# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.",
                "# TYPE node_memory_MemTotal_bytes gauge",
                "node_memory_MemTotal_bytes %d" % mem["MemTotal"],
                "# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.",
                "# TYPE node_memory_MemAvailable_bytes gauge",
                "node_memory_MemAvailable_bytes %d" % mem["MemAvailable"]]
    except (OSError, KeyError, ValueError, IndexError):
        pass
    return out


metrics = Metrics()


def current_release():
    if fault("wrong_version"):
        return PREVIOUS_VERSION, PREVIOUS_COMMIT_SHA
    return VERSION, COMMIT_SHA


# ---------------------------------------------------------------------------
# Security headers + request metrics (outermost ASGI layer, so it also sees
# error responses produced by the framework)
# ---------------------------------------------------------------------------
def security_headers():
    headers = {
        "strict-transport-security": "max-age=300" if fault("weak_hsts") else "max-age=31536000; includeSubDomains",
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "content-security-policy": ("default-src 'self'; script-src 'self' 'unsafe-inline'"
                                    if fault("csp_unsafe_inline") else "default-src 'self'"),
        "x-xss-protection": "1; mode=block",
    }
    if fault("missing_xfo"):
        del headers["x-frame-options"]
    return [(k.encode(), v.encode()) for k, v in headers.items()]


SECURITY_HEADER_NAMES = {b"strict-transport-security", b"x-content-type-options", b"x-frame-options",
                         b"content-security-policy", b"x-xss-protection"}
SECURITY_HEADERS = security_headers()


class ObservabilityMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in SECURITY_HEADER_NAMES]
                message = dict(message, headers=headers + SECURITY_HEADERS)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            metrics.observe(scope.get("method", "GET"), path, state["status"], time.perf_counter() - started)


# ---------------------------------------------------------------------------
# Sessions (server side, in memory)
# ---------------------------------------------------------------------------
sessions = {}
sessions_lock = threading.Lock()


def new_session(user):
    token = secrets.token_urlsafe(32)
    with sessions_lock:
        now = time.time()
        for key in [k for k, v in sessions.items() if v["expires"] < now]:
            del sessions[key]
        sessions[token] = {"user": user, "expires": now + SESSION_TTL_S}
    return token


def session_user(request):
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with sessions_lock:
        s = sessions.get(token)
        if s is None or s["expires"] < time.time():
            return None
        return s["user"]


def session_cookie(token):
    if fault("cookie_samesite_none"):
        return "%s=%s; Path=/; HttpOnly; SameSite=None" % (SESSION_COOKIE, token)
    if fault("cookie_samesite_none_secure"):
        return "%s=%s; Path=/; Secure; HttpOnly; SameSite=None" % (SESSION_COOKIE, token)
    if fault("cookie_no_samesite"):
        return "%s=%s; Path=/; Secure; HttpOnly" % (SESSION_COOKIE, token)
    if fault("cookie_no_httponly"):
        return "%s=%s; Path=/; Secure; SameSite=Lax" % (SESSION_COOKIE, token)
    return "%s=%s; Path=/; Secure; HttpOnly; SameSite=Lax" % (SESSION_COOKIE, token)


# ---------------------------------------------------------------------------
# Password verification
# ---------------------------------------------------------------------------
_DUMMY_HASH = "pbkdf2_sha256$100000$00000000000000000000000000000000$" + "0" * 64


def verify_password(password, stored):
    try:
        algo, iterations, salt_hex, hash_hex = stored.split("$")
        if algo != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex), int(iterations))
        return hmac.compare_digest(digest.hex(), hash_hex)
    except (ValueError, TypeError):
        return False


def authenticate(email, password):
    def lookup(cur):
        cur.execute(
            "SELECT id, email, password_hash, display_name, is_active FROM auth.users WHERE lower(email) = lower(%s)",
            (email,),
        )
        return cur.fetchone()

    row = db.run(lookup)
    if row is None:
        verify_password(password, _DUMMY_HASH)  # same cost as a real check
        return None
    user_id, user_email, pw_hash, display_name, active = row
    if not active or not verify_password(password, pw_hash):
        return None

    def binding(cur):
        cur.execute(
            """SELECT b.tenant_id, b.site_id, r.name FROM auth.user_bindings b
               JOIN auth.roles r ON r.id = b.role_id WHERE b.user_id = %s ORDER BY b.id LIMIT 1""",
            (user_id,),
        )
        return cur.fetchone()

    b = db.run(binding, user_id=user_id)
    if b is None:
        return None
    return {"user_id": user_id, "role": b[2], "email": user_email, "display_name": display_name,
            "tenant_id": b[0], "site_id": b[1]}


def first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


# ---------------------------------------------------------------------------
# Background traffic (loopback only) so that request rates exist in Prometheus
# ---------------------------------------------------------------------------
async def _one_request(sem):
    async with sem:
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 2)
            writer.write(("GET /api/v1/plans HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: solvereign-traffic/1.0\r\n"
                          "Connection: close\r\n\r\n" % (HOST, PORT)).encode())
            await writer.drain()
            await asyncio.wait_for(reader.read(), 15)
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            if writer is not None:
                writer.close()


async def traffic_loop():
    if TRAFFIC_RPS <= 0:
        return
    interval = 1.0 / TRAFFIC_RPS
    deadline = time.monotonic() + TRAFFIC_MAX_SECONDS
    sem = asyncio.Semaphore(16)
    pending = set()
    await asyncio.sleep(0.5)
    while time.monotonic() < deadline:
        if not sem.locked():
            task = asyncio.create_task(_one_request(sem))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.sleep(interval)
    log.info("traffic generator stopped after %.0f s", TRAFFIC_MAX_SECONDS)


@contextlib.asynccontextmanager
async def lifespan(_app):
    log.info("SOLVEREIGN API %s (commit %s) on %s:%d, faults: %s", VERSION, COMMIT_SHA, HOST, PORT,
             ", ".join(sorted(FAULTS)) or "none")
    task = asyncio.create_task(traffic_loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


app = FastAPI(title="SOLVEREIGN API", version=VERSION, lifespan=lifespan, docs_url=None, redoc_url=None)


# ---------------------------------------------------------------------------
# Health
# ---------------------------------------------------------------------------
@app.get("/api/health")
def health():
    if fault("health_not_json"):
        return HTMLResponse("<!doctype html><html><head><title>SOLVEREIGN</title></head>"
                            "<body><h1>SOLVEREIGN</h1><p>Service is running.</p></body></html>")
    version, commit = current_release()
    return {"status": "ok", "version": version, "commit": commit}


@app.get("/api/health/live")
def health_live():
    return {"status": "alive"}


@app.get("/api/health/ready")
async def health_ready():
    def ping(cur):
        cur.execute("SELECT 1")
        return cur.fetchone()[0]

    try:
        await run_in_threadpool(db.run, ping)
    except Exception as exc:  # any database failure makes the service not ready
        return JSONResponse({"status": "not_ready", "checks": {"database": "error"},
                             "reason": "database: %s" % first_line(exc)}, status_code=503)
    if fault("ready_503"):
        return JSONResponse({"status": "not_ready", "checks": {"database": "ok", "solver_pool": "unavailable"},
                             "reason": "solver worker pool not ready"}, status_code=503)
    return {"status": "ready", "checks": {"database": "ok"}}


# ---------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------
class LoginRequest(BaseModel):
    email: str
    password: str


@app.post("/api/auth/login")
async def login(body: LoginRequest):
    if fault("login_hangs"):
        await asyncio.sleep(60)
    try:
        user = await run_in_threadpool(authenticate, body.email, body.password)
    except Exception as exc:
        log.warning("login backend unavailable: %s", first_line(exc))
        return JSONResponse({"detail": "authentication backend unavailable"}, status_code=503)
    if user is None and fault("login_accepts_bad_password"):
        user = {"user_id": 0, "role": "dispatcher", "email": body.email, "display_name": body.email,
                "tenant_id": 1, "site_id": 10}
    if user is None:
        resp = JSONResponse({"detail": "invalid credentials"}, status_code=401)
        if fault("failed_login_sets_cookie"):
            resp.headers.append("set-cookie", session_cookie(secrets.token_urlsafe(32)))
        return resp
    resp = JSONResponse(user)
    resp.headers.append("set-cookie", session_cookie(new_session(user)))
    return resp


@app.get("/api/auth/me")
def me(request: Request):
    user = session_user(request)
    if user is None and fault("me_without_session_200"):
        user = {"user_id": 101, "role": "dispatcher", "email": "dispatcher@lts.at",
                "display_name": "Dana Dispatcher", "tenant_id": 1, "site_id": 10}
    if user is None:
        return JSONResponse({"detail": "not authenticated"}, status_code=401)
    return user


@app.post("/api/auth/logout")
def logout(request: Request):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with sessions_lock:
            sessions.pop(token, None)
    resp = JSONResponse({"status": "logged_out"})
    resp.headers.append("set-cookie", "%s=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0" % SESSION_COOKIE)
    return resp


# ---------------------------------------------------------------------------
# Work endpoint
# ---------------------------------------------------------------------------
_rng = random.Random()


@app.get("/api/v1/plans")
async def list_plans():
    # Reads tenant 1 (the runbook's TENANT_ID) through RLS.
    if fault("slow_p95") and _rng.random() < 0.9:
        await asyncio.sleep(2.5)
    if fault("high_5xx_rate") and _rng.random() < 0.2:
        log.error("plan listing failed for tenant 1: solver snapshot unavailable")
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    def query(cur):
        cur.execute("SELECT id, site_id, plan_date, status, tours FROM plans ORDER BY plan_date, id")
        return cur.fetchall()

    try:
        rows = await run_in_threadpool(db.run, query, 1)
    except Exception as exc:
        log.error("plan listing failed for tenant 1: %s", first_line(exc))
        return JSONResponse({"detail": "database unavailable"}, status_code=503)
    return {"tenant_id": 1, "plans": [
        {"id": r[0], "site_id": r[1], "plan_date": r[2].isoformat(), "status": r[3], "tours": r[4]} for r in rows]}


# ---------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------
def reject(provider, status, detail):
    metrics.webhook(provider, "rejected")
    log.warning("%s webhook rejected: %s", provider, detail)
    return JSONResponse({"detail": detail}, status_code=status)


def _sendgrid_public_key():
    if not SENDGRID_PUBLIC_KEY_B64:
        return None
    return serialization.load_der_public_key(base64.b64decode(SENDGRID_PUBLIC_KEY_B64))


SENDGRID_KEY = _sendgrid_public_key()


async def sendgrid_webhook(request: Request):
    body = await request.body()
    if not fault("sendgrid_accepts_bad_signature"):
        sig = request.headers.get("x-twilio-email-event-webhook-signature")
        ts = request.headers.get("x-twilio-email-event-webhook-timestamp")
        if not sig or not ts:
            return reject("sendgrid", 401, "missing signature headers")
        if SENDGRID_KEY is None:
            return reject("sendgrid", 401, "verification key not configured")
        try:
            SENDGRID_KEY.verify(base64.b64decode(sig, validate=True), ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, binascii.Error, ValueError):
            return reject("sendgrid", 403, "invalid signature")
        try:
            age = abs(time.time() - int(ts))
        except ValueError:
            return reject("sendgrid", 403, "invalid timestamp")
        if age > SIGNATURE_TOLERANCE_S:
            return reject("sendgrid", 403, "timestamp outside tolerance")
    try:
        events = json.loads(body)
    except ValueError:
        return reject("sendgrid", 400, "invalid JSON payload")
    if not isinstance(events, list):
        return reject("sendgrid", 400, "payload must be a list of events")
    metrics.webhook("sendgrid", "accepted")
    return {"received": len(events)}


async def whatsapp_verify(mode: str = Query("", alias="hub.mode"),
                          token: str = Query("", alias="hub.verify_token"),
                          challenge: str = Query("", alias="hub.challenge")):
    if mode == "subscribe" and challenge and WHATSAPP_VERIFY_TOKEN and \
            hmac.compare_digest(token.encode(), WHATSAPP_VERIFY_TOKEN.encode()):
        return PlainTextResponse(challenge)
    return reject("whatsapp", 403, "verification failed")


async def whatsapp_webhook(request: Request):
    body = await request.body()
    if not fault("whatsapp_accepts_bad_signature"):
        header = request.headers.get("x-hub-signature-256")
        if not header:
            return reject("whatsapp", 401, "missing X-Hub-Signature-256")
        scheme, dummy, received = header.partition("=")
        if scheme != "sha256":
            return reject("whatsapp", 403, "unsupported signature scheme")
        expected = hmac.new(WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not WHATSAPP_APP_SECRET or not hmac.compare_digest(expected, received.strip().lower()):
            return reject("whatsapp", 403, "invalid signature")
    try:
        json.loads(body)
    except ValueError:
        return reject("whatsapp", 400, "invalid JSON payload")
    metrics.webhook("whatsapp", "accepted")
    return {"status": "received"}


async def billing_webhook(request: Request):
    body = await request.body()
    if not fault("billing_accepts_bad_signature"):
        header = request.headers.get("stripe-signature")
        if not header:
            return reject("billing", 400, "missing Stripe-Signature header")
        timestamp, v1 = None, []
        for item in header.split(","):
            key, dummy, value = item.strip().partition("=")
            if key == "t":
                timestamp = value
            elif key == "v1":
                v1.append(value.strip().lower())
        if timestamp is None:
            return reject("billing", 400, "malformed Stripe-Signature header")
        if not v1:
            return reject("billing", 401, "no v1 signature")
        try:
            age = abs(time.time() - int(timestamp))
        except ValueError:
            return reject("billing", 400, "malformed timestamp")
        expected = hmac.new(BILLING_WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        if not BILLING_WEBHOOK_SECRET or not any(hmac.compare_digest(expected, s) for s in v1):
            return reject("billing", 401, "invalid signature")
        if age > SIGNATURE_TOLERANCE_S:
            return reject("billing", 401, "timestamp outside tolerance")
    try:
        event = json.loads(body)
    except ValueError:
        return reject("billing", 400, "invalid JSON payload")
    metrics.webhook("billing", "accepted")
    return {"received": True, "type": event.get("type") if isinstance(event, dict) else None}


if not fault("sendgrid_missing_from_openapi"):
    app.add_api_route("/api/v1/notifications/webhook/sendgrid", sendgrid_webhook, methods=["POST"],
                      tags=["notifications"], summary="SendGrid event webhook")
if not fault("whatsapp_missing_from_openapi"):
    app.add_api_route("/api/v1/notifications/webhook/whatsapp", whatsapp_verify, methods=["GET"],
                      tags=["notifications"], summary="WhatsApp webhook verification handshake")
    app.add_api_route("/api/v1/notifications/webhook/whatsapp", whatsapp_webhook, methods=["POST"],
                      tags=["notifications"], summary="WhatsApp Cloud API webhook")
if not fault("billing_missing"):
    app.add_api_route("/api/billing/webhook", billing_webhook, methods=["POST"],
                      tags=["billing"], summary="Billing provider webhook (Stripe-style signature)")


# ---------------------------------------------------------------------------
# Metrics endpoint
# ---------------------------------------------------------------------------
if not fault("metrics_absent"):
    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint():
        pg = await run_in_threadpool(pg_monitor.collect)
        return Response(metrics.render(pg), media_type="text/plain; version=0.0.4; charset=utf-8")


# ---------------------------------------------------------------------------
# Operator UI
# ---------------------------------------------------------------------------
STATIC_DIR = HERE / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".png": "image/png"}
LOGIN_JS_FAULT = """
// Announcement banner (optional element).
document.getElementById('announcement-banner').textContent = 'Release 3.7.0';
"""


def ui_behaviour_script():
    """The UI faults in effect, as the object the page scripts read (inline scripts are blocked by the CSP)."""
    behaviour = {
        "afterLogin": "/platform/welcome" if fault("ui_login_redirects_elsewhere") else "/platform-admin",
        "rejectValidPassword": fault("ui_login_rejects_valid_password"),
        "hideName": fault("ui_dashboard_without_name"),
        "dashboardError": fault("ui_dashboard_console_error"),
    }
    return ("window.STANDIN_UI = %s;\n" % json.dumps(behaviour)).encode()


def ui_page(standard, plain):
    """A page of the operator UI in the markup variant this API serves."""
    name = plain if fault("ui_plain_markup") else standard
    return HTMLResponse((STATIC_DIR / name).read_text(), headers={"cache-control": "no-store"})


@app.get("/platform/static/{name}", include_in_schema=False)
def static_file(name: str):
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in STATIC_TYPES:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    content = path.read_bytes()
    if path.suffix == ".js":
        content = ui_behaviour_script() + content
    if name in ("login.js", "login_plain.js") and fault("ui_console_error"):
        content += LOGIN_JS_FAULT.encode()
    return Response(content, media_type=STATIC_TYPES[path.suffix], headers={"cache-control": "no-store"})


@app.get("/favicon.ico", include_in_schema=False)
def favicon():
    return Response((STATIC_DIR / "favicon.png").read_bytes(), media_type="image/png")


@app.get("/", include_in_schema=False)
def root():
    return RedirectResponse("/platform/login", status_code=302)


@app.get("/platform/login", include_in_schema=False)
def login_page():
    return ui_page("login.html", "login_plain.html")


@app.get("/platform-admin", include_in_schema=False)
def admin_page(request: Request):
    if session_user(request) is None:
        return RedirectResponse("/platform/login", status_code=302)
    return ui_page("admin.html", "admin_plain.html")


@app.get("/platform/welcome", include_in_schema=False)
def welcome_page(request: Request):
    if session_user(request) is None:
        return RedirectResponse("/platform/login", status_code=302)
    return ui_page("welcome.html", "welcome.html")


asgi_app = ObservabilityMiddleware(app)


def main():
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(asgi_app, host=HOST, port=PORT, log_level="info", access_log=False,
                server_header=False, timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()

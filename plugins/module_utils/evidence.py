# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evidence pack (runbook section 10): required items, secret scan, manifest, archive.

PRIVATE to this collection: used by the module ``evidence_pack`` and its tests.

The pack is ``solvereign_evidence_dir`` as verify, soak, rollback and hotfix left it. This
code adds the runbook's pictures (renderings of text transcripts), finds the required items
under the names the runbook gives (or says why each is missing), scans every file for the
configured secret values (plain, base64 and URL-encoded), writes ``report.html``,
``evidence.json`` and ``MANIFEST.sha256`` and, when nothing was found, the zip beside the pack.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import re
import shutil
import zipfile

try:
    from urllib.parse import quote, quote_plus, unquote, unquote_to_bytes, urlsplit
except ImportError:  # pragma: no cover - Python 2
    from urllib import quote, quote_plus, unquote  # noqa: F401
    from urllib import unquote as unquote_to_bytes  # noqa: F401
    from urlparse import urlsplit

from ansible_collections.solvereign.release_ops.plugins.module_utils import evidence_render as render
from ansible_collections.solvereign.release_ops.plugins.module_utils.checklist import row_sort_key
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import utc_now_iso, write_evidence

MANIFEST = "MANIFEST.sha256"
SIGNATURE = MANIFEST + ".sig"
RESULT = "evidence.json"
REPORT = "report.html"
SIGNING_NAMESPACE = "solvereign-evidence"
GRAFANA_RENDER_PATH = "/render/d/solvereign-api/solvereign?orgId=1&from=now-2h&to=now&width=1600&height=900"
MIN_SECRET_LENGTH = 4
# Session cookies and other values known only by their sha256 are looked for among tokens this long.
MIN_FINGERPRINT_LENGTH = 12
# Files of the pack that the manifest and the archive leave out: the manifest and its signature
# (they cover the rest) and temporary or lock files (dot files) of writers.
NOT_IN_MANIFEST = (MANIFEST, SIGNATURE)

# The runbook's Checklist Summary, in its order.
SUMMARY = (
    ("1.1", "Tag verification"), ("1.2", "Staging version"), ("1.3", "Prod version"),
    ("2.1", "Staging health"), ("2.2", "Prod health"), ("3.1", "Security headers"),
    ("3.2", "Cookie security"), ("4.1", "API login valid"), ("4.2", "API login invalid"),
    ("4.3", "Session validation"), ("4.4", "UI login smoke"), ("5.1", "SendGrid endpoint"),
    ("5.2", "SendGrid sig reject"), ("5.3", "WhatsApp endpoint"), ("5.4", "WhatsApp sig reject"),
    ("5.5", "Billing webhook"), ("6.1", "Migration status"), ("6.2", "RLS hardening"),
    ("6.3", "RBAC integrity"), ("6.4", "Tenant isolation"), ("7.1", "Sentry errors"),
    ("7.2", "Prometheus metrics"), ("7.3", "Log sampling"), ("8.1", "Soak (2h)"),
)
PROD_ONLY = ("1.3", "2.2")
NON_PROD_ONLY = ("1.2", "2.1")


class EvidenceError(Exception):
    """The pack cannot be assembled or written; the message says what to fix."""


# --------------------------------------------------------------------------- secret scan

def dsn_password(dsn):
    """The password inside a libpq URL or key=value DSN, or None."""
    if not dsn or not isinstance(dsn, str):
        return None
    if "://" in dsn:
        try:
            password = urlsplit(dsn).password
        except ValueError:
            password = None
        return unquote(password) if password else None
    match = re.search(r"\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
    if not match:
        return None
    value = match.group(1)
    if value.startswith("'"):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value or None


def _base64_needles(raw):
    """Base64 forms of ``raw`` wherever it sits in an encoded stream (3 alignments, both alphabets).

    For each alignment only the characters that depend on ``raw`` alone are kept, so the needle
    is found inside a longer encoded payload too."""
    needles = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = -(-shift * 8 // 6)
        end = (shift + len(raw)) * 8 // 6
        needle = encoded[start:end]
        if len(needle) >= MIN_SECRET_LENGTH:
            needles.add(needle)
            needles.add(needle.replace(b"+", b"-").replace(b"/", b"_"))
    return needles


def secret_needles(value):
    """``[(encoding, bytes)]`` to search for: plain, URL-encoded, base64."""
    raw = value.encode("utf-8")
    needles = [("plain", raw)]
    seen = set([raw])
    for encoded in (quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/:@")):
        for form in (encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)):
            data = form.encode("ascii")
            if data not in seen:
                seen.add(data)
                needles.append(("url-encoded", data))
    for data in sorted(_base64_needles(raw)):
        if data not in seen:
            seen.add(data)
            needles.append(("base64", data))
    return needles


def prepare_secrets(secrets):
    """Split ``[{name, value}]`` into what is scanned and what is not (too short, empty).

    Returns ``(scanned, ignored)``: ``scanned`` is ``[(name, needles)]``; ``ignored`` is
    ``[{variable, reason}]``. Values are never returned."""
    scanned, ignored, seen = [], [], {}
    for entry in secrets or []:
        name = str(entry.get("name") or "unnamed")
        value = entry.get("value")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            value = str(value)
        if len(value) < MIN_SECRET_LENGTH:
            ignored.append({"variable": name, "reason": "shorter than %d characters: too short to scan for without "
                                                        "false alarms" % MIN_SECRET_LENGTH})
            continue
        if value in seen:
            seen[value].append(name)
            continue
        seen[value] = [name]
        scanned.append((seen[value], secret_needles(value)))
    return [(" / ".join(names), needles) for names, needles in scanned], ignored


# Tokens that could be a secret known only by its sha256 (a session cookie seen during the run):
# runs of the URL-safe, base64 and cookie-octet (RFC 6265, without "=") alphabets.
_TOKEN_PATTERNS = (re.compile(rb"[A-Za-z0-9_-]{%d,}" % MIN_FINGERPRINT_LENGTH),
                   re.compile(rb"[A-Za-z0-9+/]{%d,}={0,2}" % MIN_FINGERPRINT_LENGTH),
                   re.compile(rb"[\x21\x23-\x2b\x2d-\x3a\x3c\x3e-\x5b\x5d-\x7e]{%d,}" % MIN_FINGERPRINT_LENGTH))
_BASE64_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]{%d,}={0,2}" % MIN_FINGERPRINT_LENGTH)


def prepare_fingerprints(fingerprints):
    """``{sha256 hex: variable}`` from ``[{name, sha256}]`` (values themselves are never given)."""
    prepared = {}
    for entry in fingerprints or []:
        digest = str(entry.get("sha256") or "").strip().lower()
        if re.match(r"^[0-9a-f]{64}$", digest):
            prepared.setdefault(digest, str(entry.get("name") or "unnamed"))
    return prepared


def _tokens(data):
    found = set()
    for pattern in _TOKEN_PATTERNS:
        found.update(pattern.findall(data))
    return found


def _fingerprint_hits(data, fingerprints):
    """``[(variable, encoding)]`` of the fingerprinted secrets among the tokens of ``data``: as
    they are, URL-decoded, or inside a base64 token."""
    hits = []

    def look(tokens, encoding):
        for token in tokens:
            name = fingerprints.get(hashlib.sha256(token).hexdigest())
            if name and name not in [hit[0] for hit in hits]:
                hits.append((name, encoding))

    look(_tokens(data), "plain")
    decoded = unquote_to_bytes(data) if b"%" in data else data
    if decoded != data:
        look(_tokens(decoded), "url-encoded")
    for token in _BASE64_TOKEN.findall(data):
        text = token.replace(b"-", b"+").replace(b"_", b"/").rstrip(b"=")
        try:
            raw = base64.b64decode(text + b"=" * (-len(text) % 4))
        except (ValueError, TypeError):
            continue
        look(_tokens(raw), "base64")
    return hits


def scan_file(path, prepared, fingerprints=None):
    """``[(variable, encoding)]`` of every secret found in the file at ``path``."""
    with open(path, "rb") as handle:
        data = handle.read()
    found = []
    for name, needles in prepared:
        for encoding, needle in needles:
            if needle in data:
                found.append((name, encoding))
                break
    if fingerprints:
        found.extend(_fingerprint_hits(data, fingerprints))
    return found


def scan_files(root, relpaths, prepared, fingerprints=None):
    """Findings ``[{file, variable, encoding}]`` over ``relpaths`` below ``root``."""
    findings = []
    for rel in relpaths:
        for name, encoding in scan_file(os.path.join(root, rel), prepared, fingerprints):
            findings.append({"file": rel, "variable": name, "encoding": encoding})
    return findings


# --------------------------------------------------------------------------- files and manifest

def pack_files(root):
    """Relative paths (POSIX) of every file in the pack that the manifest covers, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or "\n" in name or "\\" in name:
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            if rel in NOT_IN_MANIFEST or os.path.islink(os.path.join(dirpath, name)):
                continue
            out.append(rel)
    return sorted(out)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(root, relpaths):
    """``MANIFEST.sha256`` in the format of ``sha256sum`` (run ``sha256sum -c`` in the pack)."""
    lines = ["%s  %s" % (sha256_file(os.path.join(root, rel)), rel) for rel in relpaths]
    return write_evidence(root, MANIFEST, "\n".join(lines) + ("\n" if lines else ""))


def archive_name(tag, date):
    return "release_evidence_%s_%s.zip" % (tag, date)


def write_archive(root, relpaths, path):
    """Zip the pack as the runbook's ``zip -r release_evidence_<tag>_<date>.zip release_evidence/<tag>/``
    does: entries under ``<parent folder>/<pack folder>/`` (``release_evidence/v3.7.0/...``)."""
    root = os.path.normpath(root)
    prefix = "%s/%s" % (os.path.basename(os.path.dirname(root)) or ".", os.path.basename(root))
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in relpaths:
            archive.write(os.path.join(root, rel), "%s/%s" % (prefix, rel))
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- sources

def _load_json(path):
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        raise EvidenceError("%s is not readable JSON: %s" % (path, exc))


def load_jsonl(path):
    records = []
    if not os.path.isfile(path):
        return records
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def locations(root, checklist):
    """``[(environment, directory, prefix)]`` where each environment's evidence files are.

    One environment keeps its files beside the checklist; with several, verify writes each
    environment's files into ``<root>/<environment>/``."""
    environments = sorted(set(str(r.get("environment")) for r in (checklist or {}).get("checks") or []
                              if r.get("environment")))
    if len(environments) > 1:
        return [(env, os.path.join(root, env), env + "/") for env in environments]
    return [(environments[0] if environments else None, root, "")]


def _rows_for(checklist, ids, environment):
    return [r for r in (checklist or {}).get("checks") or []
            if str(r.get("id")) in ids and (environment is None or r.get("environment") == environment)]


def _source_reason(checklist, ids, environment, what):
    """Why a required item whose source is a verify row is not there."""
    if checklist is None:
        return "verify did not run for this evidence dir (no checklist.json), so %s was not produced" % what
    rows = _rows_for(checklist, ids, environment)
    if not rows:
        return "row %s did not run in this verify (no checklist row), so %s was not produced" % (
            " / ".join(ids), what)
    parts = ["row %s %s: %s" % (r.get("id"), r.get("status"), r.get("summary") or "") for r in rows]
    return "%s was not produced (%s)" % (what, "; ".join(parts))


# --------------------------------------------------------------------------- the pack

class Pack(object):
    """Assemble one evidence pack. ``options`` mirror the module's arguments."""

    def __init__(self, root, release=None, tag=None, date=None, deploy_log=None, grafana_png=None,
                 grafana_reason=None, now=None):
        self.root = os.path.abspath(root)
        self.release = release
        self.tag = tag
        self.date = date
        self.deploy_log = deploy_log
        self.grafana_png = grafana_png            # bytes fetched from Grafana's render API
        self.grafana_reason = grafana_reason      # why Grafana was not used, when it was configured
        self.generated_at = now or utc_now_iso()
        self.items = []                           # required items: {item, file, status, source|reason}
        self.not_drawn = []                       # pictures that could not be drawn, with reasons
        self.sources = {}
        self.checklist = None
        self.soak = None

    # -- sources
    def load(self):
        if not os.path.isdir(self.root):
            raise EvidenceError("the evidence dir %s does not exist: run verify (or soak/rollback) first, or set "
                                "solvereign_evidence_dir to the pack to assemble" % self.root)
        self.checklist = _load_json(os.path.join(self.root, "checklist.json"))
        if self.checklist is not None and not isinstance(self.checklist.get("checks"), list):
            raise EvidenceError("%s has no 'checks' list: not a checklist written by verify"
                                % os.path.join(self.root, "checklist.json"))
        if not self.release:
            self.release = str((self.checklist or {}).get("release") or "")
        if not self.release:
            raise EvidenceError("the release version is unknown: no checklist.json in %s; set "
                                "solvereign_release_version" % self.root)
        if not self.tag:
            self.tag = "v" + self.release.lstrip("v")
        verdict = _load_json(os.path.join(self.root, "soak", "verdict.json"))
        self.soak = {"verdict": verdict, "records": load_jsonl(os.path.join(self.root, "soak", "measurements.jsonl"))}
        self.sources = {
            "verify": self._source("checklist.json", self.checklist, "verdict"),
            "soak": self._source("soak/verdict.json", verdict, "verdict"),
            "rollback": self._source("rollback/result.json", _load_json(os.path.join(self.root, "rollback", "result.json"))),
            "hotfix": self._source("hotfix/result.json", _load_json(os.path.join(self.root, "hotfix", "result.json"))),
        }

    @staticmethod
    def _source(rel, document, key=None):
        if document is None:
            return {"ran": False, "file": rel}
        out = {"ran": True, "file": rel}
        if key and isinstance(document, dict) and key in document:
            out[key] = document[key]
        return out

    # -- required items
    def _item(self, item, rel, present, how=None, reason=None):
        entry = {"item": item, "file": rel, "status": "present" if present else "missing"}
        if present and how:
            entry["source"] = how
        if not present:
            entry["reason"] = reason
        self.items.append(entry)

    def _render(self, text_path, png_path, title):
        """Draw ``text_path`` into ``png_path``; return None or why not."""
        reason = render.unavailable_reason()
        if reason:
            return reason
        with open(text_path, errors="replace") as handle:
            text = handle.read()
        render.render_text(text, png_path, title)
        return None

    def assemble(self):
        """Draw the pictures, copy the deploy log and list every required item."""
        for environment, directory, prefix in locations(self.root, self.checklist):
            where = " (%s)" % environment if environment else ""
            # The runbook names the staging picture; production's own (in a run with both) says prod.
            health_png = "health_check_%s.png" % ("prod" if environment == "prod" else "staging")
            self._picture_from_text(
                "Health check%s" % where, directory, prefix, "health_check.log", health_png,
                "$ curl -sf ${URL}/api/health{,/ready,/live}  # runbook 2.1/2.2%s" % where,
                (NON_PROD_ONLY[1], PROD_ONLY[1]), environment, "the health probe transcript health_check.log")
            self._present("Login success%s" % where, directory, prefix, "login_smoke.png", ("4.4",), environment,
                          "the UI login smoke screenshot")
            self._picture_from_text(
                "RLS verification%s" % where, directory, prefix, "rls_verify.log", "rls_verify.png",
                "$ psql \"$DATABASE_URL\" -c \"SELECT * FROM verify_final_hardening();\"  # runbook 6.2%s" % where,
                ("6.2",), environment, "the verify_final_hardening() output rls_verify.log")
            self._present("Webhook rejection%s" % where, directory, prefix, "webhook_signature_reject.log",
                          ("5.2", "5.4"), environment, "the webhook rejection log")
            self._present("Migration log%s" % where, directory, prefix, "migrations_applied.log", ("6.1",),
                          environment, "the schema_migrations query result")
        self._grafana()
        self._deploy_log()
        verdict = (self.soak or {}).get("verdict")
        for entry in (verdict.get("charts_missing") or []) if isinstance(verdict, dict) else []:
            if isinstance(entry, dict):
                self.not_drawn.append({"file": "soak/%s" % entry.get("chart", entry.get("signal")),
                                       "reason": "the soak could not draw it: %s" % entry.get("reason")})

    def _present(self, item, directory, prefix, name, ids, environment, what):
        path = os.path.join(directory, name)
        present = os.path.isfile(path)
        self._item(item, prefix + name, present, how="verify",
                   reason=None if present else _source_reason(self.checklist, ids, environment, what))

    def _picture_from_text(self, item, directory, prefix, text_name, png_name, title, ids, environment, what):
        text_path = os.path.join(directory, text_name)
        png_path = os.path.join(directory, png_name)
        if not os.path.isfile(text_path):
            if os.path.isfile(png_path):
                self._item(item, prefix + png_name, True, how="present in the pack")
            else:
                self._item(item, prefix + png_name, False,
                           reason=_source_reason(self.checklist, ids, environment, what))
            return
        reason = self._render(text_path, png_path, title)
        if reason:
            self.not_drawn.append({"file": prefix + png_name, "reason": reason})
            self._item(item, prefix + png_name, False,
                       reason="not drawn: %s; the text is in the pack as %s" % (reason, prefix + text_name))
        else:
            self._item(item, prefix + png_name, True, how="rendering of %s" % (prefix + text_name))

    def _grafana(self):
        name = "grafana_post_ga.png"
        path = os.path.join(self.root, name)
        if self.grafana_png is not None:
            write_evidence(self.root, name, self.grafana_png, mode="wb")
            self._item("Grafana dashboard", name, True, how="Grafana render API")
            return
        measurements = os.path.join(self.root, "soak", "measurements.jsonl")
        series = render.measurement_series(self.soak["records"]) if self.soak else {}
        prefix = ("%s; " % self.grafana_reason) if self.grafana_reason else ""
        if not series:
            if os.path.isfile(path) and self.grafana_reason is None:
                self._item("Grafana dashboard", name, True, how="present in the pack")
                return
            why = ("no soak measurements to draw (%s %s)" % (
                "soak/measurements.jsonl", "has no numeric measurement" if os.path.isfile(measurements) else "not found: the soak did not run"))
            self._item("Grafana dashboard", name, False, reason=prefix + why + (
                "" if self.grafana_reason else "; set solvereign_grafana_url and solvereign_grafana_token to take it "
                                               "from Grafana's render API"))
            return
        reason = render.unavailable_reason()
        if reason:
            self.not_drawn.append({"file": name, "reason": reason})
            self._item("Grafana dashboard", name, False,
                       reason=prefix + "not drawn: %s; the measurements are in soak/measurements.jsonl" % reason)
            return
        render.draw_measurements(series, path, "SOLVEREIGN %s post-GA soak: drawn from soak/measurements.jsonl"
                                 % self.tag)
        self._item("Grafana dashboard", name, True, how=prefix + "drawn from soak/measurements.jsonl")

    def _deploy_log(self):
        name = "deploy_%s.log" % self.tag
        target = os.path.join(self.root, name)
        if self.deploy_log:
            if not os.path.isfile(self.deploy_log):
                raise EvidenceError("evidence_deploy_log %s is not a readable file: set it to the deploy output of %s"
                                    % (self.deploy_log, self.tag))
            if os.path.abspath(self.deploy_log) != target:
                shutil.copyfile(self.deploy_log, target)
                os.chmod(target, 0o644)
            self._item("Deployment log", name, True, how="copied from evidence_deploy_log")
            return
        if os.path.isfile(target):
            self._item("Deployment log", name, True, how="present in the pack")
            return
        rolled = os.path.join(self.root, "rollback", name)
        if os.path.isfile(rolled):
            self._item("Deployment log", "rollback/" + name, True, how="rollback")
            return
        others = sorted(n for n in os.listdir(os.path.join(self.root, "rollback"))
                        if n.startswith("deploy_") and n.endswith(".log")) if os.path.isdir(
            os.path.join(self.root, "rollback")) else []
        if others:
            reason = ("no deploy log of %s: the rollback's deploy log (%s) is of the version it rolled back to; "
                      "set evidence_deploy_log to the deploy output of %s" % (self.tag, ", ".join("rollback/" + o for o in others), self.tag))
        else:
            reason = ("no deploy log of %s: neither a rollback ran nor is evidence_deploy_log set (the "
                      "container/K8s deploy output of %s)" % (self.tag, self.tag))
        self._item("Deployment log", name, False, reason=reason)

    @property
    def missing(self):
        return [dict((k, i[k]) for k in ("item", "file", "reason")) for i in self.items if i["status"] == "missing"]

    # -- summary rows for the report
    def summary_rows(self):
        """Checklist rows in the runbook's order, with a placeholder for every id without a row."""
        rows = sorted((self.checklist or {}).get("checks") or [], key=row_sort_key)
        have = set(str(r.get("id")) for r in rows)
        environments = set(r.get("environment") for r in rows)
        placeholders = []
        for check_id, title in SUMMARY:
            if check_id in have:
                continue
            if check_id in PROD_ONLY and "prod" not in environments:
                reason = "no row: production was not verified in this run (the inventory has no prod environment)"
            elif check_id in NON_PROD_ONLY and environments and environments <= set(["prod"]):
                reason = "no row: no environment before production was verified in this run"
            elif check_id == "8.1":
                reason = "no row: the soak did not run for this evidence dir (playbooks/soak.yml)"
            elif self.checklist is None:
                reason = "no row: verify did not run for this evidence dir"
            else:
                reason = "no row: the check did not run in this verify"
            placeholders.append({"id": check_id, "title": title, "environment": "", "status": "NOT RUN",
                                 "summary": reason, "findings": []})
        return sorted(rows + placeholders, key=row_sort_key)

    def relative(self, path):
        """A pack-relative link target for an evidence path, or None when it lies outside."""
        if not path:
            return None
        full = os.path.abspath(path if os.path.isabs(path) else os.path.join(self.root, path))
        rel = os.path.relpath(full, self.root)
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
        # A pack assembled after it was moved: the rows still name where verify wrote the files.
        parts = full.split(os.sep)
        for tail in (parts[-2:], parts[-1:]):
            candidate = "/".join(tail)
            if os.path.isfile(os.path.join(self.root, *tail)):
                return candidate
        return None


# --------------------------------------------------------------------------- the whole run

def sign_manifest(root, key, run_command):
    """``ssh-keygen -Y sign`` the manifest; return the signature path. ``run_command(args)``
    returns ``(rc, stdout, stderr)`` (AnsibleModule.run_command)."""
    if not os.path.isfile(key):
        raise EvidenceError("evidence_signing_key %s is not a file: set it to an SSH private key (ssh-keygen -t ed25519)" % key)
    signature = os.path.join(root, SIGNATURE)
    if os.path.exists(signature):
        os.unlink(signature)
    rc, dummy, err = run_command(["ssh-keygen", "-Y", "sign", "-f", key, "-n", SIGNING_NAMESPACE,
                                  os.path.join(root, MANIFEST)])
    if rc != 0 or not os.path.isfile(signature):
        raise EvidenceError("ssh-keygen -Y sign with evidence_signing_key failed (rc %s): %s (a key with a passphrase "
                            "needs ssh-agent; the private key file must be readable)" % (rc, " ".join((err or "").split())[:300]))
    return signature


def build(root, secrets=(), archive=True, release=None, tag=None, date=None, deploy_log=None,
          grafana_png=None, grafana_reason=None, signing_key=None, run_command=None, now=None, fingerprints=()):
    """Assemble the pack in ``root``; return ``(result, failure)``.

    ``failure`` is None, or the message the run fails with (secret found). ``EvidenceError`` is
    raised when the pack cannot be assembled or written."""
    pack = Pack(root, release=release, tag=tag, date=date, deploy_log=deploy_log, grafana_png=grafana_png,
                grafana_reason=grafana_reason, now=now)
    pack.load()
    if not pack.date:
        pack.date = pack.generated_at[:10].replace("-", "")
    try:
        pack.assemble()
        prepared, ignored = prepare_secrets(secrets)
        known = prepare_fingerprints(fingerprints)
        variables = sorted(set(n for name, dummy in prepared for n in name.split(" / ")) | set(known.values()))
        inputs = [rel for rel in pack_files(pack.root) if rel not in (RESULT, REPORT)]
        findings = scan_files(pack.root, inputs, prepared, known)
        archive_path = os.path.join(os.path.dirname(pack.root), archive_name(pack.tag, pack.date))
        archive_info = {"path": archive_path, "written": False}

        def decide():
            if findings:
                archive_info["reason"] = "the secret scan found configured secret values in the pack"
            elif not archive:
                archive_info["reason"] = "evidence_archive is false"
            else:
                archive_info.pop("reason", None)
                archive_info["written"] = True

        def scan_result(files_scanned):
            return {"status": "FAIL" if findings else "PASS", "files_scanned": files_scanned,
                    "variables": variables, "findings": list(findings), "ignored": ignored,
                    "encodings": ["plain", "url-encoded", "base64"]}

        decide()
        listing = [{"path": rel, "size": os.path.getsize(os.path.join(pack.root, rel)),
                    "sha256": sha256_file(os.path.join(pack.root, rel))} for rel in inputs]
        from ansible_collections.solvereign.release_ops.plugins.module_utils import evidence_report
        html = evidence_report.render(pack, listing, scan_result(len(inputs) + 2), archive_info)
        write_evidence(pack.root, REPORT, html)
        findings.extend(scan_files(pack.root, [REPORT], prepared, known))
        decide()
        listing.append({"path": REPORT, "size": os.path.getsize(os.path.join(pack.root, REPORT)),
                        "sha256": sha256_file(os.path.join(pack.root, REPORT))})
        result = {
            "release": pack.release, "tag": pack.tag, "generated_at": pack.generated_at,
            "evidence_dir": pack.root, "verdict": (pack.checklist or {}).get("verdict"),
            "sources": pack.sources, "required": pack.items, "missing": pack.missing,
            "pictures_not_drawn": pack.not_drawn, "files": listing, "archive": archive_info,
            "secret_scan": scan_result(len(inputs) + 2), "manifest": os.path.join(pack.root, MANIFEST),
            "signature": None,
        }
        write_evidence(pack.root, RESULT, json.dumps(result, indent=2) + "\n")
        late = scan_files(pack.root, [RESULT], prepared, known)
        if late:
            findings.extend(late)
            decide()
            result["archive"] = archive_info
            result["secret_scan"] = scan_result(len(inputs) + 2)
            write_evidence(pack.root, RESULT, json.dumps(result, indent=2) + "\n")
        manifest_files = pack_files(pack.root)
        write_manifest(pack.root, manifest_files)
        archived = manifest_files + [MANIFEST]
        if signing_key:
            result["signature"] = sign_manifest(pack.root, signing_key, run_command)
            archived.append(SIGNATURE)
        elif os.path.exists(os.path.join(pack.root, SIGNATURE)):
            os.unlink(os.path.join(pack.root, SIGNATURE))
        if archive_info["written"]:
            write_archive(pack.root, archived, archive_path)
        elif findings and os.path.exists(archive_path):
            # An archive of an earlier run of this pack would pass for the current one: remove it.
            os.unlink(archive_path)
            archive_info["removed_stale"] = True
    except (IOError, OSError) as exc:
        raise EvidenceError("cannot write the evidence pack in %s: %s" % (pack.root, exc))
    result["manifest_files"] = manifest_files
    failure = None
    if findings:
        failure = ("secret scan: configured secret values found in the evidence pack, not archived: %s. Remove them "
                   "from those files (or rerun the step that wrote them) and run the evidence playbook again" % "; ".join(
                       "%s contains %s (%s)" % (f["file"], f["variable"], f["encoding"]) for f in findings))
    return result, failure

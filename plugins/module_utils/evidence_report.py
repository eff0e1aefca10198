# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``report.html``: the evidence pack as one file an auditor opens offline.

PRIVATE to this collection. No external assets and no script: styles inline, pictures as
``data:`` URIs, findings in ``<details>``, links relative to the pack.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

try:
    from html import escape as _escape
except ImportError:  # pragma: no cover - Python 2
    from cgi import escape as _escape

MAX_INLINE_BYTES = 4 * 1024 * 1024

STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d1d1d;max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{border:1px solid #d6d6d6;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.status{font-weight:bold;white-space:nowrap;text-align:center}
.s-PASS{background:#d9f2d9;color:#14591d}.s-WARN{background:#fff1c2;color:#6b5200}.s-FAIL{background:#f8d0d0;color:#8a1111}
.s-ERROR{background:#f4c7f0;color:#6a0f63}.s-SKIP{background:#e6e6e6;color:#444}.s-NOTRUN{background:#fafafa;color:#777}
.s-present{background:#d9f2d9;color:#14591d}.s-missing{background:#f8d0d0;color:#8a1111}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:bold}
details summary{cursor:pointer;color:#234}ul{margin:4px 0 4px 18px;padding:0}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
figure{margin:12px 0}figure img{max-width:100%;border:1px solid #ccc}figcaption{font-size:13px;color:#555}
.muted{color:#666;font-size:13px}
"""


def esc(value):
    return _escape("" if value is None else str(value), quote=True)


def status_class(status):
    return "s-" + str(status or "").replace(" ", "")


def data_uri(path):
    """A ``data:image/png;base64,...`` URI of ``path``, or None when it is too large to inline."""
    if os.path.getsize(path) > MAX_INLINE_BYTES:
        return None
    with open(path, "rb") as handle:
        return "data:image/png;base64," + base64.b64encode(handle.read()).decode("ascii")


def _link(pack, path):
    rel = pack.relative(path)
    if rel is None:
        return "<span class=\"muted\">%s (outside the pack)</span>" % esc(path)
    if not os.path.exists(os.path.join(pack.root, rel)):
        return "<span class=\"muted\">%s (not in the pack)</span>" % esc(rel)
    return "<a href=\"%s\">%s</a>" % (esc(rel), esc(rel))


def _row(pack, row):
    status = row.get("status")
    findings = row.get("findings") or []
    parts = []
    if findings or row.get("advice"):
        items = "".join("<li><span class=\"%s\">%s</span> %s: %s</li>" % (
            status_class(f.get("status")), esc(f.get("status")), esc(f.get("name")), esc(f.get("message")))
            for f in findings)
        advice = "".join("<li>what to do: %s</li>" % esc(a) for a in row.get("advice") or [])
        parts.append("<details><summary>%d finding%s</summary><ul>%s%s</ul></details>" % (
            len(findings), "" if len(findings) == 1 else "s", items, advice))
    links = "<br>".join(_link(pack, p) for p in row.get("evidence") or [])
    return ("<tr class=\"check %s\" data-id=\"%s\" data-environment=\"%s\" data-status=\"%s\">"
            "<td>%s</td><td>%s</td><td>%s</td><td class=\"status %s\">%s</td><td>%s%s</td><td>%s</td></tr>") % (
        status_class(status), esc(row.get("id")), esc(row.get("environment")), esc(status),
        esc(row.get("id")), esc(row.get("environment")), esc(row.get("title")), status_class(status), esc(status),
        esc(row.get("summary")), "".join(parts), links)


def _figure(pack, rel, caption):
    path = os.path.join(pack.root, rel)
    uri = data_uri(path) if os.path.isfile(path) else None
    if uri is None:
        return "<p class=\"muted\">%s: %s</p>" % (esc(rel), "too large to inline" if os.path.isfile(path) else "not in the pack")
    return "<figure><img alt=\"%s\" src=\"%s\"><figcaption><a href=\"%s\">%s</a> %s</figcaption></figure>" % (
        esc(rel), uri, esc(rel), esc(rel), esc(caption))


def _soak_section(pack):
    verdict = (pack.soak or {}).get("verdict")
    charts = sorted(n for n in os.listdir(os.path.join(pack.root, "soak"))
                    if n.endswith(".png")) if os.path.isdir(os.path.join(pack.root, "soak")) else []
    if verdict is None and not charts:
        return "<p class=\"muted\">The soak did not run for this evidence dir (no soak/verdict.json).</p>"
    out = []
    if isinstance(verdict, dict):
        out.append("<p>Soak verdict: <span class=\"verdict %s\">%s</span></p>" % (
            status_class({"ROLLBACK": "FAIL", "INCONCLUSIVE": "ERROR"}.get(verdict.get("verdict"), verdict.get("verdict"))),
            esc(verdict.get("verdict"))))
        reasons = verdict.get("reasons") or []
        if reasons:
            out.append("<ul>%s</ul>" % "".join("<li>%s</li>" % esc(r) for r in reasons))
    for name in charts:
        out.append(_figure(pack, "soak/" + name, "soak chart"))
    return "".join(out)


def _json_section(pack, rel, title):
    path = os.path.join(pack.root, rel)
    if not os.path.isfile(path):
        return "<h3>%s</h3><p class=\"muted\">Did not run for this evidence dir (no %s).</p>" % (esc(title), esc(rel))
    with open(path, errors="replace") as handle:
        text = handle.read()
    try:
        text = json.dumps(json.loads(text), indent=2)
    except ValueError:
        pass
    return "<h3>%s</h3><p><a href=\"%s\">%s</a></p><details><summary>show</summary><pre>%s</pre></details>" % (
        esc(title), esc(rel), esc(rel), esc(text[:20000]))


def render(pack, files, secret_scan, archive):
    """The report as one HTML string."""
    checklist = pack.checklist or {}
    verdict = checklist.get("verdict") or "NO CHECKLIST"
    rows = "".join(_row(pack, r) for r in pack.summary_rows())
    items = "".join(
        "<tr class=\"item\" data-file=\"%s\" data-status=\"%s\"><td>%s</td><td>%s</td><td class=\"status %s\">%s</td>"
        "<td>%s</td></tr>" % (
            esc(i["file"]), esc(i["status"]), esc(i["item"]),
            _link(pack, i["file"]) if i["status"] == "present" else esc(i["file"]), status_class(i["status"]),
            esc(i["status"]),
            esc(i.get("source") or i.get("reason")))
        for i in pack.items)
    pictures = "".join(_figure(pack, i["file"], i["item"]) for i in pack.items
                       if i["status"] == "present" and i["file"].endswith(".png"))
    scan_findings = "".join("<li>%s: %s (%s)</li>" % (esc(f["file"]), esc(f["variable"]), esc(f["encoding"]))
                            for f in secret_scan["findings"])
    ignored = "; ".join("%s (%s)" % (i["variable"], i["reason"]) for i in secret_scan["ignored"])
    scan = ("<p>Secret scan: <span class=\"verdict %s\">%s</span> %d file(s), variables: %s</p>%s%s" % (
        status_class(secret_scan["status"]), esc(secret_scan["status"]), secret_scan["files_scanned"],
        esc(", ".join(secret_scan["variables"]) or "none configured"),
        "<ul>%s</ul>" % scan_findings if scan_findings else "",
        "<p class=\"muted\">Not scanned: %s</p>" % esc(ignored) if ignored else ""))
    listing = "".join("<li><a href=\"%s\">%s</a> <span class=\"muted\">%d bytes</span></li>" % (
        esc(f["path"]), esc(f["path"]), f["size"]) for f in files)
    not_drawn = "".join("<li>%s: %s</li>" % (esc(n["file"]), esc(n["reason"])) for n in pack.not_drawn)
    if archive.get("written"):
        archive_text = esc(os.path.basename(archive["path"])) + " (beside the pack)"
    else:
        archive_text = esc(os.path.basename(archive["path"])) + ": not written, " + esc(archive.get("reason"))
    return """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>SOLVEREIGN %(tag)s evidence pack</title><link rel="icon" href="data:,"><style>%(style)s</style></head>
<body>
<h1>SOLVEREIGN %(release)s: Post-GA evidence pack</h1>
<p>Tag <code>%(tag)s</code>, checklist generated %(checklist_at)s, pack assembled %(generated)s.
Verdict: <span id="verdict" class="verdict %(verdict_class)s">%(verdict)s</span></p>
<h2>Checklist Summary</h2>
<table id="checklist"><thead><tr><th>#</th><th>Environment</th><th>Check</th><th>Status</th><th>Notes</th><th>Evidence</th></tr></thead>
<tbody>%(rows)s</tbody></table>
<h2>10) Evidence Pack: required items</h2>
<table id="required"><thead><tr><th>Item</th><th>File</th><th>Status</th><th>Source or reason</th></tr></thead>
<tbody>%(items)s</tbody></table>
%(not_drawn)s
<h2>Soak (8.1)</h2>
%(soak)s
<h2>Screenshots</h2>
%(pictures)s
<h2>Rollback and patch release</h2>
%(rollback)s%(hotfix)s
<h2>Integrity</h2>
%(scan)s
<p>Every file is listed in <a href="MANIFEST.sha256">MANIFEST.sha256</a>: verify with
<code>sha256sum -c MANIFEST.sha256</code> inside the pack. Archive: %(archive)s.</p>
<details><summary>%(file_count)d files</summary><ul>%(listing)s</ul></details>
<h2>Sign-Off</h2>
<pre id="signoff">Release Manager: _______________ Date: _______________
Platform Lead:   _______________ Date: _______________</pre>
</body></html>
""" % {
        "style": STYLE, "tag": esc(pack.tag), "release": esc(pack.release),
        "checklist_at": esc(checklist.get("generated_at") or "never (verify did not run)"),
        "generated": esc(pack.generated_at), "verdict": esc(verdict), "verdict_class": status_class(verdict),
        "rows": rows, "items": items,
        "not_drawn": "<p>Pictures that could not be drawn:</p><ul>%s</ul>" % not_drawn if not_drawn else "",
        "soak": _soak_section(pack), "pictures": pictures or "<p class=\"muted\">No pictures in the pack.</p>",
        "rollback": _json_section(pack, "rollback/result.json", "Rollback (8.3)"),
        "hotfix": _json_section(pack, "hotfix/result.json", "Patch release (9)"),
        "scan": scan, "archive": archive_text, "file_count": len(files), "listing": listing,
    }

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: one PNG chart per soak signal against its threshold (matplotlib, optional).

Without matplotlib nothing is drawn and :func:`draw_charts` says which charts are missing and
why, so the verdict can say it; the decision never depends on the charts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    HAS_MATPLOTLIB = True
    MATPLOTLIB_ERROR = None
except Exception as exc:  # ImportError, or a broken backend: charts are optional
    HAS_MATPLOTLIB = False
    MATPLOTLIB_ERROR = str(exc)


def chart_name(signal_name):
    return "chart_%s.png" % re.sub(r"[^a-z0-9]+", "_", signal_name.lower()).strip("_")


def _points(records, signal_name, kind):
    """``{series label: [(ts, value)]}`` from the measurements of one signal."""
    out = {}
    for record in records:
        if record.get("signal") != signal_name or record.get("kind") != kind:
            continue
        for sample in record.get("samples") or []:
            label = ",".join("%s=%s" % kv for kv in sorted((sample.get("labels") or {}).items())
                             if kv[0] not in ("__name__",)) or signal_name
            for ts, value in sample.get("values") or []:
                if isinstance(value, (int, float)):
                    out.setdefault(label, {})[ts] = value
    return dict((k, sorted(v.items())) for k, v in out.items())


def draw_charts(policy, records, directory, start, end, verdict=None):
    """Draw a chart per signal with data; return ``{"written": [...], "missing": [...]}``."""
    charted = [s for s in policy.signals if s.source == "prometheus"]
    if not HAS_MATPLOTLIB:
        return {"written": [], "missing": [{"signal": s.name, "chart": chart_name(s.name),
                                            "reason": "matplotlib is not installed (%s): pip install matplotlib"
                                            % MATPLOTLIB_ERROR} for s in charted]}
    written, missing = [], []
    for sig in charted:
        checkpoints = _points(records, sig.name, "checkpoint")
        triggers = _points(records, sig.name, "trigger")
        if not checkpoints and not triggers:
            missing.append({"signal": sig.name, "chart": chart_name(sig.name), "reason": "no samples to draw"})
            continue
        scale = 100.0 if sig.ratio and ((sig.threshold and sig.threshold.is_percent)
                                        or (sig.trigger and sig.trigger.when and sig.trigger.when.is_percent)) else 1.0
        fig, ax = plt.subplots(figsize=(10, 3.6), dpi=90)
        for label, points in checkpoints.items():
            ax.plot([_dt(p[0]) for p in points], [p[1] * scale for p in points], lw=1.4, label=label)
        for label, points in triggers.items():
            ax.plot([_dt(p[0]) for p in points], [p[1] * scale for p in points], lw=0.8, ls=":",
                    label="%s (trigger query)" % label)
        if sig.threshold is not None:
            ax.axhline(sig.threshold.value, color="tab:orange", ls="--", lw=1, label="soak %s" % sig.threshold.text)
        if sig.trigger is not None and sig.trigger.when is not None:
            ax.axhline(sig.trigger.when.value, color="tab:red", ls="--", lw=1,
                       label="rollback %s" % sig.trigger.describe(sig.ratio))
        ax.set_xlim(_dt(start), _dt(end))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=datetime.timezone.utc))
        ax.set_title("%s%s" % (sig.name, " (verdict %s)" % verdict if verdict else ""), fontsize=10)
        unit = "%" if scale == 100.0 else (sig.threshold.unit if sig.threshold else "")
        ax.set_ylabel(unit or "value")
        ax.set_xlabel("UTC")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        path = os.path.join(directory, chart_name(sig.name))
        fig.savefig(path)
        plt.close(fig)
        written.append({"signal": sig.name, "path": path})
    return {"written": written, "missing": missing}


def _dt(ts):
    return datetime.datetime.fromtimestamp(float(ts), datetime.timezone.utc)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pictures of the evidence pack, drawn with Pillow (an optional dependency).

``render_text`` draws a terminal transcript (the runbook asks for screenshots of terminal
output); ``draw_measurements`` draws the soak's measurements as one line chart per signal, the
stand-in for a Grafana panel when no Grafana is configured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import traceback

PIL_IMPORT_ERROR = None
try:
    from PIL import Image, ImageDraw, ImageFont
except ImportError:
    Image = ImageDraw = ImageFont = None
    PIL_IMPORT_ERROR = traceback.format_exc()

MONO_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
)
MAX_LINES = 160
MAX_COLUMNS = 140
BACKGROUND = (30, 30, 30)
FOREGROUND = (220, 220, 220)
PROMPT = (120, 200, 120)
FAILURE = (240, 110, 100)
TITLE = (140, 180, 250)
SERIES_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75))


def unavailable_reason():
    """Why no picture can be drawn here, or None."""
    if Image is None:
        return "the Python package Pillow is not installed on the controller (optional: pip install pillow)"
    return None


def _font(size):
    for path in MONO_FONTS:
        if os.path.isfile(path):
            try:
                return ImageFont.truetype(path, size)
            except (IOError, OSError):
                continue
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def _wrap(lines):
    out = []
    for line in lines:
        line = line.expandtabs(4).rstrip("\r")
        while len(line) > MAX_COLUMNS:
            out.append(line[:MAX_COLUMNS])
            line = "  " + line[MAX_COLUMNS:]
        out.append(line)
    if len(out) > MAX_LINES:
        hidden = len(out) - MAX_LINES
        out = out[:MAX_LINES] + ["... %d more lines in the text file beside this picture" % hidden]
    return out


def _colour(line):
    if line.startswith("$ ") or line.startswith("=> "):
        return PROMPT
    if line.startswith("#"):
        return TITLE
    words = line.replace("|", " ").split()
    if "FAIL" in words or "ERROR" in words or line.startswith("curl: "):
        return FAILURE
    return FOREGROUND


def render_text(text, path, title):
    """Draw ``text`` as a terminal window with ``title`` on top; write a PNG to ``path``."""
    font = _font(14)
    lines = _wrap([title, ""] + text.splitlines())
    box = font.getbbox("Mg")
    char_w = max(1.0, float(font.getlength("M"))) if hasattr(font, "getlength") else float(box[2] - box[0]) / 2
    line_h = max(1, int((box[3] - box[1]) * 1.4) + 2)
    width = 24 + int(char_w * max(40, max(len(line) for line in lines)) + 1)
    height = 24 + line_h * len(lines)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((12, 12 + index * line_h), line, font=font, fill=TITLE if index == 0 else _colour(line))
    image.save(path, "PNG")
    return path


def measurement_series(records):
    """``{signal: [(ts, value)]}`` from soak measurement records.

    Each record names its ``signal``; the points are its samples' ``values`` (``[ts, value]``
    pairs, as Prometheus gives them) or, without samples, its own ``time``/``value``.
    """
    series = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        name = str(record.get("signal") or record.get("name") or record.get("query") or "measurement")
        if record.get("kind") not in (None, "checkpoint", "measurement"):
            continue
        points = series.setdefault(name, {})
        samples = record.get("samples") if isinstance(record.get("samples"), list) else []
        found = False
        for sample in samples:
            for pair in (sample.get("values") or []) if isinstance(sample, dict) else []:
                try:
                    ts, value = float(pair[0]), float(pair[1])
                except (TypeError, ValueError, IndexError):
                    continue
                if not math.isnan(value):
                    points[ts] = value
                    found = True
        if not found:
            ts = _timestamp(record.get("time"))
            try:
                value = float(record.get("value"))
            except (TypeError, ValueError):
                continue
            if ts is not None and not math.isnan(value):
                points[ts] = value
    return dict((name, sorted(points.items())) for name, points in series.items() if points)


def _timestamp(value):
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    from datetime import datetime
    text = value.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _clock(ts):
    import time
    return time.strftime("%H:%M", time.gmtime(ts))


def draw_measurements(series, path, title):
    """One panel per signal (value over time, UTC); write a PNG to ``path``."""
    font = _font(13)
    names = sorted(series)
    panel_w, panel_h, margin = 1100, 220, 70
    width = panel_w + 2 * margin
    height = 60 + len(names) * (panel_h + 50)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((margin, 18), title, font=_font(16), fill=(20, 20, 20))
    for index, name in enumerate(names):
        points = series[name]
        top = 60 + index * (panel_h + 50)
        left, right, bottom = margin, margin + panel_w, top + panel_h
        draw.text((left, top - 18), name, font=font, fill=(20, 20, 20))
        draw.rectangle((left, top, right, bottom), outline=(160, 160, 160))
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min([0.0] + ys), max(ys)
        if x1 == x0:
            x1 = x0 + 1.0
        if y1 == y0:
            y1 = y0 + 1.0
        for step in range(5):
            value = y0 + (y1 - y0) * step / 4.0
            y = bottom - (bottom - top) * step / 4.0
            draw.line((left, y, right, y), fill=(232, 232, 232))
            draw.text((4, y - 7), ("%.4g" % value)[:9], font=font, fill=(90, 90, 90))
        for step in range(5):
            ts = x0 + (x1 - x0) * step / 4.0
            x = left + (right - left) * step / 4.0
            draw.text((x - 18, bottom + 4), _clock(ts), font=font, fill=(90, 90, 90))
        coords = [(left + (right - left) * (x - x0) / (x1 - x0), bottom - (bottom - top) * (y - y0) / (y1 - y0))
                  for x, y in points]
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        if len(coords) == 1:
            cx, cy = coords[0]
            draw.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), fill=colour)
        else:
            draw.line(coords, fill=colour, width=2)
    image.save(path, "PNG")
    return path

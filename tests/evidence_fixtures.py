"""Files in the shapes soak, rollback and hotfix write, for the evidence pack's tests."""

import json
import os
import struct
import zlib

START = 1767000000.0


def png(width=4, height=3, rgb=(200, 30, 30)):
    """A small valid PNG, written without any imaging library."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = (b"\0" + bytes(rgb) * width) * height
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_soak(evidence_dir, verdict="PASS"):
    """soak/verdict.json, soak/measurements.jsonl and two charts, as the soak writes them."""
    soak = os.path.join(str(evidence_dir), "soak")
    os.makedirs(soak, exist_ok=True)
    records = []
    for index in range(8):
        ts = START + index * 900
        for signal, value in (("5xx rate", 0.001 * index), ("p95 latency", 0.2 + 0.01 * index)):
            records.append({"kind": "checkpoint", "signal": signal, "time": ts, "status": "PASS", "value": value,
                            "samples": [{"labels": {"job": "solvereign-api"},
                                         "values": [[ts - 60, value], [ts, value]]}],
                            "reason": "%s %.3f within limits" % (signal, value)})
    with open(os.path.join(soak, "measurements.jsonl"), "w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    charts = []
    for name in ("chart_5xx_rate.png", "chart_p95_latency.png"):
        with open(os.path.join(soak, name), "wb") as handle:
            handle.write(png())
        charts.append({"signal": name[6:-4], "path": os.path.join(soak, name)})
    with open(os.path.join(soak, "verdict.json"), "w") as handle:
        json.dump({"verdict": verdict, "reasons": ["every signal within its soak threshold for 2h"],
                   "charts": charts}, handle)
    return soak


def write_rollback(evidence_dir, target="v3.6.10"):
    """rollback/result.json, rollback/deploy_<target>.log and rollback/incident_report.md."""
    directory = os.path.join(str(evidence_dir), "rollback")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "result.json"), "w") as handle:
        json.dump({"from": "v3.7.0", "to": target, "changed": True}, handle)
    with open(os.path.join(directory, "deploy_%s.log" % target), "w") as handle:
        handle.write("$ docker compose up -d --force-recreate api\nContainer api Started\n")
    with open(os.path.join(directory, "incident_report.md"), "w") as handle:
        handle.write("# Incident: rollback of v3.7.0 to %s\n" % target)
    return directory


def write_hotfix(evidence_dir):
    directory = os.path.join(str(evidence_dir), "hotfix")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "result.json"), "w") as handle:
        json.dump({"tag": "v3.7.1", "pushed": True}, handle)
    return directory

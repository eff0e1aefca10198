#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: evidence_pack
short_description: Assemble the runbook's evidence pack, scan it for secrets, write its manifest and archive
version_added: 0.2.0
description:
  - Runbook section 10. Works on the evidence directory that verify, soak, rollback and hotfix
    wrote (O(evidence_dir)).
  - Draws the runbook's pictures where their source ran, C(health_check_staging.png) from the
    health probe transcript C(health_check.log), C(rls_verify.png) from the output of
    C(verify_final_hardening()) (C(rls_verify.log)); C(grafana_post_ga.png) from Grafana's render
    API when O(grafana_url) and O(grafana_token) are set, else drawn from
    C(soak/measurements.jsonl). Pictures need the Python package Pillow; without it the pack
    says which pictures it could not draw.
  - Lists every required item of the runbook (screenshots and log snippets) as present, or
    missing with the reason. C(deploy_<tag>.log) comes from O(deploy_log), the pack itself or
    C(rollback/).
  - Scans every file for the values of O(secrets), plain, URL-encoded and base64-encoded. A
    finding names the file and the variable, never the value; then nothing is archived and the
    module fails.
  - Writes C(report.html) (one file, no external assets), C(evidence.json) (C(files),
    C(missing), C(archive), C(secret_scan)) and C(MANIFEST.sha256) (check with
    C(sha256sum -c MANIFEST.sha256) in the pack), signs the manifest with O(signing_key)
    (C(ssh-keygen -Y sign), namespace C(solvereign-evidence)) and zips the pack as
    C(release_evidence_<tag>_<YYYYMMDD>.zip) beside it.
  - Runs on the controller, inside Ansible's own process (an action plugin of the same name), whatever
    the task's host; the pack is always written there.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.http_client
attributes:
  check_mode:
    support: none
    details: The pack is the record of the run, so it is written in check mode too (the
      playbooks set C(check_mode=false) on this task); it never touches the system under test.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  evidence_dir:
    description: The evidence directory to assemble (C(solvereign_evidence_dir)).
    type: path
    required: true
  release:
    description: Release version; by default the C(release) of C(checklist.json).
    type: str
  tag:
    description: Release tag used in file names; by default V(v) followed by the release version.
    type: str
  date:
    description: Date in the archive name (C(YYYYMMDD)); by default today (UTC).
    type: str
  archive:
    description: Write the zip archive beside the pack.
    type: bool
    default: true
  secrets:
    description:
      - Secret values to scan for, keyed by the variable that holds them. A finding reports the
        key, never the value.
    type: dict
    default: {}
  secret_fingerprints:
    description:
      - Secrets known only by their SHA-256 (the session cookies the login smoke saw), as
        C({name, sha256}). Every token of a file (as it is, URL-decoded, or inside base64) is hashed
        and compared; a finding reports the name.
    type: list
    elements: dict
    default: []
  signing_key:
    description: SSH private key to sign C(MANIFEST.sha256) with. Empty signs nothing.
    type: path
  deploy_log:
    description: The deploy output of the release, copied into the pack as C(deploy_<tag>.log).
    type: path
  grafana_url:
    description: Base URL of Grafana. With O(grafana_token) C(grafana_post_ga.png) is rendered by Grafana.
    type: str
  grafana_token:
    description: Grafana service account token (Bearer).
    type: str
  grafana_render_path:
    description:
      - Path of the render API request below O(grafana_url), for example
        V(/render/d/solvereign-api/solvereign?orgId=1&from=now-2h&to=now&width=1600&height=900).
    type: str
    default: /render/d/solvereign-api/solvereign?orgId=1&from=now-2h&to=now&width=1600&height=900
requirements:
  - Pillow (optional, for the pictures)
  - ssh-keygen (OpenSSH), when O(signing_key) is set
seealso:
  - module: solvereign.release_ops.checklist_write
"""

EXAMPLES = r"""
- name: Assemble, scan and archive the evidence pack
  solvereign.release_ops.evidence_pack:
    evidence_dir: release_evidence/v3.7.0
    secrets:
      solvereign_login_password: "{{ solvereign_login_password }}"
    signing_key: /etc/solvereign/evidence_ed25519
  check_mode: false
  no_log: true
  delegate_to: localhost
  register: evidence
"""

RETURN = r"""
evidence_json:
  description: Path of C(evidence.json).
  returned: when the pack was written
  type: str
  sample: /srv/release_evidence/v3.7.0/evidence.json
report:
  description: Path of C(report.html).
  returned: when the pack was written
  type: str
files:
  description: The files of the pack (path relative to the pack, size, sha256), C(MANIFEST.sha256) aside.
  returned: when the pack was written
  type: list
  elements: dict
missing:
  description: Required items of the runbook that are not in the pack, with C(item), C(file) and C(reason).
  returned: when the pack was written
  type: list
  elements: dict
archive:
  description: C(path) of the zip and whether it was C(written) (with the C(reason) when not).
  returned: when the pack was written
  type: dict
secret_scan:
  description:
    - C(status) (V(PASS) or V(FAIL)), C(files_scanned), C(variables) scanned for, C(findings)
      (C(file), C(variable), C(encoding)) and C(ignored) variables (too short to scan).
  returned: when the pack was written
  type: dict
manifest:
  description: Path of C(MANIFEST.sha256).
  returned: when the pack was written
  type: str
signature:
  description: Path of C(MANIFEST.sha256.sig), or null when no key is configured.
  returned: when the pack was written
  type: str
pictures_not_drawn:
  description: Pictures that could not be drawn (C(file), C(reason)), for example without Pillow.
  returned: when the pack was written
  type: list
  elements: dict
verdict:
  description: The checklist's verdict (V(PASS) or V(FAIL)), or null when verify did not run.
  returned: when the pack was written
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils import evidence
from ansible_collections.solvereign.release_ops.plugins.module_utils.http_client import (
    HttpClient,
    HttpError,
    http_argument_spec,
    join_url,
    requests,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.redact import redact_text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def grafana_picture(module):
    """``(png_bytes, reason)``: the dashboard from Grafana's render API, or why not."""
    p = module.params
    if not p["grafana_url"] and not p["grafana_token"]:
        return None, None
    if not p["grafana_url"] or not p["grafana_token"]:
        return None, "Grafana not used: set both solvereign_grafana_url and solvereign_grafana_token"
    if requests is None:
        return None, "Grafana not used: the Python package requests is not installed"
    client = HttpClient.from_module(module, secrets=(p["grafana_token"],))
    url = join_url(p["grafana_url"], p["grafana_render_path"])
    try:
        answer = client.request("GET", url, headers={"Authorization": "Bearer %s" % p["grafana_token"],
                                                     "Accept": "image/png"})
    except HttpError as exc:
        return None, "Grafana's render API did not answer: %s" % redact_text(exc.message, (p["grafana_token"],))
    if answer.status != 200 or not (answer.content or b"").startswith(PNG_MAGIC):
        return None, "Grafana's render API answered HTTP %s without a PNG (is the image renderer plugin installed and " \
                     "the token allowed to view the dashboard?)" % answer.status
    return answer.content, None


def validate(module):
    for name, value in module.params["secrets"].items():
        if value is not None and not isinstance(value, (str, int, float)):
            module.fail_json(msg="secrets[%r] must be a string (the value of that variable), got a %s"
                             % (name, type(value).__name__))
    date = module.params["date"]
    if date and not (len(date) == 8 and date.isdigit()):
        module.fail_json(msg="date %r must be YYYYMMDD, for example 20260111" % date)


def main(module_factory=AnsibleModule):
    argument_spec = http_argument_spec()
    argument_spec.update(
        evidence_dir=dict(type="path", required=True),
        release=dict(type="str"),
        tag=dict(type="str"),
        date=dict(type="str"),
        archive=dict(type="bool", default=True),
        secrets=dict(type="dict", default={}, no_log=True),
        secret_fingerprints=dict(type="list", elements="dict", default=[], no_log=False),
        signing_key=dict(type="path", no_log=False),
        deploy_log=dict(type="path"),
        grafana_url=dict(type="str"),
        grafana_token=dict(type="str", no_log=True),
        grafana_render_path=dict(type="str", default=evidence.GRAFANA_RENDER_PATH),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=False)
    validate(module)
    p = module.params
    png, reason = grafana_picture(module)

    def run_command(args):
        return module.run_command(args)

    try:
        result, failure = evidence.build(
            p["evidence_dir"], secrets=[{"name": k, "value": v} for k, v in sorted(p["secrets"].items())],
            archive=p["archive"], release=p["release"], tag=p["tag"],
            date=p["date"], deploy_log=p["deploy_log"], grafana_png=png, grafana_reason=reason,
            signing_key=p["signing_key"], run_command=run_command, fingerprints=p["secret_fingerprints"])
    except evidence.EvidenceError as exc:
        module.fail_json(msg=str(exc))
    out = dict(
        changed=True, evidence_json="%s/%s" % (result["evidence_dir"], evidence.RESULT),
        report="%s/%s" % (result["evidence_dir"], evidence.REPORT), files=result["files"],
        missing=result["missing"], archive=result["archive"], secret_scan=result["secret_scan"],
        manifest=result["manifest"], signature=result["signature"], pictures_not_drawn=result["pictures_not_drawn"],
        verdict=result["verdict"])
    if failure:
        module.fail_json(msg=failure, **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()

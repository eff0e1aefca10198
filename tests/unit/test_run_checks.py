"""run_checks: the planned checks of several environments in one task, rows back to each host."""

import json

from .conftest import Route, run_local_playbook

PLAYBOOK = """
- name: Plan and run
  hosts: all
  gather_facts: false
  tasks:
    - name: Plan
      ansible.builtin.set_fact:
        solvereign_check_plan: "{{ test_plan }}"
    - name: Run every plan at once
      solvereign.release_ops.run_checks:
      run_once: true
      register: ran
    - name: Record
      solvereign.release_ops.checklist_record:
        checks: "{{ ran }}"
      when: solvereign_environment in ran.environments
    - name: Show what each host keeps
      ansible.builtin.copy:
        content: "{{ {'rows': solvereign_checklist_rows | default([]), 'seen': seen_status | default(none),
                      'ran': ran.msg} | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0600"
      delegate_to: localhost
"""


def probe(name, base_url, path, rows, **extra):
    entry = {"name": name, "rows": rows, "module": "solvereign.release_ops.http_check",
             "args": {"check_id": rows[0]["id"] if rows else "0", "check_title": "t", "environment": "x",
                      "base_url": base_url, "probes": [{"path": path}], "retries": 0}}
    entry.update(extra)
    return entry


def run_playbook(tmp_path, hosts):
    proc = run_local_playbook(tmp_path, hosts, PLAYBOOK)
    kept = {}
    for name in hosts:
        path = tmp_path / ("%s.json" % name)
        if path.exists():
            kept[name] = json.loads(path.read_text())
    return proc, kept


def test_every_environment_gets_its_own_rows(server, tmp_path):
    server.routes["/ok"] = Route(200, {})
    server.routes["/down"] = Route(503, {"detail": "database unavailable"})
    staging_plan = [
        probe("health", server.url, "/ok", [{"id": "2.1", "title": "Staging health"}],
              export={"seen_status": {"path": "responses.0.status"}}),
        probe("ready", server.url, "/down", [{"id": "2.9", "title": "Ready"}]),
        # A check that only feeds another one: no row, its value handed on through 'needs'.
        probe("lookup", server.url, "/ok", []),
        probe("titled", server.url, "/ok", [{"id": "3.9", "title": "from lookup"}],
              needs={"check_title": {"from": "lookup", "path": "responses.0.url"}}),
        {"name": "sentry", "rows": [{"id": "7.1", "title": "Sentry"}], "skip": "Sentry is not configured",
         "module": "solvereign.release_ops.sentry_check"},
        {"name": "db", "rows": [{"id": "6.1", "title": "Migrations"}], "error": "DSN refers to an undefined variable"},
    ]
    prod_plan = [probe("health", server.url, "/ok", [{"id": "2.2", "title": "Prod health"}])]
    hosts = {
        "stg1": {"solvereign_environment": "staging", "test_plan": staging_plan},
        "stg2": {"solvereign_environment": "staging", "test_plan": staging_plan},
        "prd1": {"solvereign_environment": "prod", "test_plan": prod_plan,
                 "solvereign_gate_reason": "not verified: staging did not pass first"},
    }
    proc, kept = run_playbook(tmp_path, hosts)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Traceback" not in proc.stdout
    staging = dict((r["id"], r) for r in kept["stg1"]["rows"])
    assert sorted(staging) == ["2.1", "2.9", "3.9", "6.1", "7.1"]
    assert all(r["environment"] == "staging" for r in staging.values())
    assert staging["2.1"]["status"] == "PASS"
    assert staging["2.9"]["status"] == "FAIL" and "HTTP 503" in staging["2.9"]["summary"]
    assert staging["3.9"]["status"] == "PASS" and staging["3.9"]["title"] == server.url + "/ok"
    assert staging["7.1"]["status"] == "SKIP" and staging["7.1"]["summary"] == "Sentry is not configured"
    assert staging["6.1"]["status"] == "ERROR" and "undefined variable" in staging["6.1"]["summary"]
    # Both hosts of staging keep staging's rows and exported facts; the plan ran once.
    assert kept["stg2"]["rows"] == kept["stg1"]["rows"]
    assert kept["stg1"]["seen"] == 200 and kept["stg2"]["seen"] == 200
    assert len([r for r in server.requests if r[1] == "/ok"]) == 3
    prod = kept["prd1"]["rows"]
    assert [(r["id"], r["status"], r["environment"]) for r in prod] == [("2.2", "SKIP", "prod")]
    assert prod[0]["summary"] == "not verified: staging did not pass first"
    assert "7 checks of 2 environment(s)" in kept["stg1"]["ran"]


def test_a_check_that_cannot_run_is_an_error_row_not_a_crash(server, tmp_path):
    plan = [probe("health", server.url, "/ok", [{"id": "2.1", "title": "Health"}]),
            dict(probe("broken", server.url, "/ok", [{"id": "2.9", "title": "Broken"}]),
                 args={"check_id": "2.9", "check_title": "Broken", "environment": "x", "timeout": "soon"})]
    server.routes["/ok"] = Route(200, {})
    proc, kept = run_playbook(tmp_path, {"h": {"solvereign_environment": "staging", "test_plan": plan}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    rows = dict((r["id"], r) for r in kept["h"]["rows"])
    assert rows["2.1"]["status"] == "PASS"
    assert rows["2.9"]["status"] == "ERROR" and "the check could not run" in rows["2.9"]["summary"]
    assert "probes" in rows["2.9"]["summary"]


def test_a_malformed_plan_is_refused_naming_the_entry(server, tmp_path):
    for plan, words in (
            ([{"name": "health", "module": "solvereign.release_ops.http_check"}], "needs 'rows'"),
            ([probe("a", server.url, "/", [{"id": "1", "title": "t"}], after=["nothing"])], "waits for 'nothing'"),
            ([probe("a", server.url, "/", [{"id": "1", "title": "t"}], module="ansible.builtin.uri")],
             "not a check module"),
            ([probe("a", server.url, "/", [{"id": "1", "title": "t"}], when="x")], "unknown keys when")):
        proc, kept = run_playbook(tmp_path, {"h": {"solvereign_environment": "staging", "test_plan": plan}})
        assert proc.returncode != 0
        assert words in proc.stdout, (words, proc.stdout[-2000:])
        assert "Traceback" not in proc.stdout

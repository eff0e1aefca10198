"""run_checks' sections: the section roles' checks planned on the controller for every environment."""

import json

import pytest

from ansible_collections.solvereign.release_ops.plugins.plugin_utils.section_plans import role_short_name, tags_selected

from .conftest import Route, run_local_playbook

PLAYBOOK = """
- name: Plan and run the health section for every environment
  hosts: all
  gather_facts: false
  tasks:
    - name: Plan and run
      solvereign.release_ops.run_checks:
        sections: {sections}
      run_once: true
      register: ran
      tags: [always]
    - name: Keep what ran
      ansible.builtin.copy:
        content: "{{{{ ran | to_json }}}}"
        dest: "{{{{ out_dir }}}}/ran.json"
        mode: "0600"
      run_once: true
      delegate_to: localhost
      tags: [always]
"""


@pytest.mark.parametrize("tags, run, skip, expected", [
    (["health"], ["all"], [], True),
    (["health"], ["health"], [], True),
    (["health"], ["database"], [], False),
    (["health"], ["all"], ["health"], False),
    (["health"], ["tagged"], [], True),
    ([], ["tagged"], [], False),
    ([], ["untagged"], [], True),
    (["always"], ["database"], [], True),
    (["always"], ["all"], ["always"], False),
    (["health"], ["all"], ["tagged"], False),
])
def test_a_section_runs_when_ansible_would_run_a_task_with_its_tags(tags, run, skip, expected):
    assert tags_selected(tags, run, skip) is expected


def test_role_names_of_this_collection_only():
    assert role_short_name("solvereign.release_ops.health") == "health"
    assert role_short_name("health") == "health"
    assert role_short_name("community.general.health") is None
    assert role_short_name("") is None


def run_sections(tmp_path, environments, sections, args=(), extra_vars=None):
    hosts = {}
    for environment, variables in environments.items():
        hosts["%s-1" % environment] = dict(variables, solvereign_environment=environment)
        # A second host of the same environment: its environment is planned once, from its first host.
        hosts["%s-2" % environment] = dict(variables, solvereign_environment=environment)
    proc = run_local_playbook(tmp_path, hosts, PLAYBOOK.format(sections=json.dumps(sections)), extra_vars, args)
    path = tmp_path / "ran.json"
    return proc, (json.loads(path.read_text()) if path.exists() else None)


def rows_by_environment(ran):
    return dict((environment, [(r["id"], r["status"]) for r in info["rows"]])
                for environment, info in ran["environments"].items())


def test_each_environment_is_planned_with_its_own_variables(server, tmp_path):
    server.routes["/api/health"] = Route(200, {})
    server.routes["/api/health/ready"] = Route(200, {})
    server.routes["/api/health/live"] = Route(200, {})
    server.routes["/down"] = Route(503, {"detail": "database unavailable"})
    proc, ran = run_sections(tmp_path, {
        "staging": {"solvereign_url": server.url},
        # The role's default endpoints, overridden in one environment's inventory.
        "prod": {"solvereign_url": server.url, "health_endpoints": [{"path": "/down"}]},
    }, ["solvereign.release_ops.health"])
    assert proc.returncode == 0, proc.stdout
    # The row ids and titles come from the role's vars, templated per environment (prod is 2.2).
    assert rows_by_environment(ran) == {"staging": [("2.1", "PASS")], "prod": [("2.2", "FAIL")]}
    assert ran["environments"]["staging"]["host"] == "staging-1"
    assert ran["host_tasks"] == {}
    assert "/down" in ran["environments"]["prod"]["rows"][0]["summary"]


def test_extra_vars_override_the_inventory_and_tags_select_sections(server, tmp_path):
    server.routes["/up"] = Route(200, {})
    environments = {"staging": {"solvereign_url": server.url, "health_endpoints": [{"path": "/missing"}]}}
    sections = [{"role": "health", "tags": ["health"]}, {"role": "security_headers", "tags": ["headers"]}]
    proc, ran = run_sections(tmp_path, environments, sections, args=["--tags", "health"],
                             extra_vars={"health_endpoints": [{"path": "/up"}]})
    assert proc.returncode == 0, proc.stdout
    assert rows_by_environment(ran) == {"staging": [("2.1", "PASS")]}
    proc, ran = run_sections(tmp_path, environments, sections, args=["--skip-tags", "health,headers"])
    assert proc.returncode == 0, proc.stdout
    assert rows_by_environment(ran) == {"staging": []}


def test_variables_that_break_the_argument_spec_give_error_rows_that_say_so(server, tmp_path):
    server.routes["/api/health"] = Route(200, {})
    proc, ran = run_sections(tmp_path, {
        "staging": {"solvereign_url": server.url, "health_http_timeout": "soon"},
        "qa": {"solvereign_url": server.url, "health_endpoints": "{{ undefined_endpoints_variable }}"},
    }, ["health"])
    assert proc.returncode == 0, proc.stdout
    staging, qa = ran["environments"]["staging"]["rows"][0], ran["environments"]["qa"]["rows"][0]
    assert (staging["id"], staging["status"]) == ("2.1", "ERROR")
    assert "argument_specs" in staging["summary"] and "health_http_timeout" in staging["summary"]
    assert (qa["id"], qa["status"]) == ("2.1", "ERROR")
    assert "undefined_endpoints_variable" in qa["summary"]


def test_a_role_that_plans_nothing_is_refused_by_name(tmp_path):
    proc, ran = run_sections(tmp_path, {"staging": {"solvereign_url": "http://127.0.0.1:9"}},
                             ["solvereign.release_ops.checklist"])
    assert proc.returncode != 0 and ran is None
    assert "solvereign.release_ops.checklist is not a section role that plans checks" in proc.stdout
    proc, ran = run_sections(tmp_path, {"staging": {"solvereign_url": "http://127.0.0.1:9"}}, ["community.x.health"])
    assert "is not a role of solvereign.release_ops" in proc.stdout


ROLE_PLAYBOOK = """
- name: The health role on its own, then run_checks without sections
  hosts: all
  gather_facts: false
  roles:
    - role: solvereign.release_ops.health
  tasks:
    - name: Run the host's plan
      solvereign.release_ops.run_checks:
      run_once: true
      register: ran
    - name: Keep what ran
      ansible.builtin.copy:
        content: "{{ ran | to_json }}"
        dest: "{{ out_dir }}/ran.json"
        mode: "0600"
      run_once: true
      delegate_to: localhost
"""


def test_a_section_role_used_on_its_own_adds_its_checks_to_the_host_plan(server, tmp_path):
    server.routes["/api/health"] = Route(200, {})
    server.routes["/api/health/ready"] = Route(503, {"detail": "not ready"})
    server.routes["/api/health/live"] = Route(200, {})
    proc = run_local_playbook(tmp_path, {"prod-1": {"solvereign_environment": "prod", "solvereign_url": server.url}},
                              ROLE_PLAYBOOK)
    assert proc.returncode == 0, proc.stdout
    ran = json.loads((tmp_path / "ran.json").read_text())
    assert rows_by_environment(ran) == {"prod": [("2.2", "FAIL")]}
    assert "/api/health/ready" in ran["environments"]["prod"]["rows"][0]["summary"]

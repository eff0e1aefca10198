"""The AWX configuration (roles/awx/vars/main.yml) without a controller: rendered as the role renders
it, every template's playbook exists, every survey question and extra variable is accepted by the
argument specs of the roles its playbook runs, the surveys pass AWX's own survey checks, and the
release workflow's graph runs the right nodes for every verdict, by AWX's rules for workflows."""

import copy
import glob
import os
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, "roles", "awx")
FQCN = "solvereign.release_ops."
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "integer": int, "float": (int, float),
                "multiplechoice": str, "multiselect": str}


def load_configuration(**overrides):
    """The role's defaults and vars, rendered by Ansible's templar as the role renders them."""
    loader = DataLoader()
    defaults = loader.load_from_file(os.path.join(ROLE, "defaults", "main.yml"), trusted_as_template=True)
    fixed = loader.load_from_file(os.path.join(ROLE, "vars", "main.yml"), trusted_as_template=True)
    variables = dict(defaults)
    variables.update(fixed)
    variables.update({"awx_execution_environment_image": "registry.example.com/solvereign/release-ops-ee:0.1.0"})
    variables.update(overrides)
    templar = Templar(loader=loader, variables=variables)
    names = [name for name in fixed if name.startswith("awx_")]
    return dict((name, templar.template(variables[name])) for name in names)


CONFIG = load_configuration()
TEMPLATES = dict((t["name"], t) for t in CONFIG["awx_job_templates"])
WORKFLOW = CONFIG["awx_workflows"][0]
NODES = dict((n["identifier"], n) for n in WORKFLOW["workflow_nodes"])


# ---------------------------------------------------------------- playbooks, roles, argument specs

def _tasks_roles(tasks):
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            yield from _tasks_roles(task.get(key))
        for action in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
            if action in task:
                yield task[action]["name"]


def playbook_roles(path):
    """The roles a playbook runs: roles:, include_role/import_role in any task list, imported playbooks."""
    roles = []
    for play in yaml.safe_load(open(path)) or []:
        if "ansible.builtin.import_playbook" in play:
            roles += playbook_roles(os.path.join(os.path.dirname(path), play["ansible.builtin.import_playbook"]))
            continue
        for role in play.get("roles", []):
            roles.append(role["role"] if isinstance(role, dict) else role)
        for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            roles += list(_tasks_roles(play.get(key)))
    return roles


def role_options(role):
    """Options of every entry point of a role's argument specs, by name."""
    assert role.startswith(FQCN), "role %s is not of this collection" % role
    path = os.path.join(ROOT, "roles", role[len(FQCN):], "meta", "argument_specs.yml")
    specs = yaml.safe_load(open(path))["argument_specs"]
    options = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    return options


def inventory_variables():
    """The public inventory variables: what the group_vars of the shipped inventories set."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "inventories", "*", "group_vars", "*.yml")):
        names.update(name for name in yaml.safe_load(open(path)) if not name.startswith("_"))
    return names


def _spec_for_validator(option):
    spec = dict((k, v) for k, v in option.items() if k in ("type", "choices", "elements", "options", "no_log"))
    if "options" in spec:
        spec["options"] = dict((k, _spec_for_validator(v)) for k, v in spec["options"].items())
    return spec


def variable_problems(playbook, variables):
    """Why each of ``variables`` ({name: [values]}) is not accepted by ``playbook``'s roles, as text."""
    roles = playbook_roles(os.path.join(ROOT, playbook))
    options = {}
    for role in roles:
        for name, option in role_options(role).items():
            options.setdefault(name, []).append((role, option))
    inventory = inventory_variables()
    problems = []
    for name, values in sorted(variables.items()):
        if name in options:
            for role, option in options[name]:
                validator = ArgumentSpecValidator({name: _spec_for_validator(option)})
                for value in values:
                    result = validator.validate({name: value})
                    if result.error_messages:
                        problems.append("%s=%r: %s (%s)" % (name, value, "; ".join(result.error_messages), role))
        elif name in inventory:
            for value in values:
                if not isinstance(value, str):
                    problems.append("%s=%r: inventory variables are strings here" % (name, value))
        else:
            problems.append("%s: no role of %s declares it (roles: %s) and no inventory sets it"
                            % (name, playbook, ", ".join(roles)))
    return problems


def survey_variables(survey):
    """{variable: [values an answer can take]}: default, choices, and '' for an optional text."""
    found = {}
    for question in (survey or {}).get("spec", []):
        values = []
        if question.get("default", "") != "" or not question["required"]:
            values.append(question.get("default", ""))
        values += list(question.get("choices") or [])
        if question["type"] == "text" and not question["required"]:
            values.append("")
        found.setdefault(question["variable"], []).extend(values or ["x" * max(question.get("min") or 1, 1)])
    return found


def survey_problems(survey):
    """The checks AWX's API makes when a survey is saved (JobTemplateSurveySpec._validate_spec_data)."""
    problems = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            problems.append("survey field %s must be a %s" % (field, kind.__name__))
    if problems:
        return problems
    if not survey["spec"]:
        problems.append("the survey has no question")
    seen = set()
    for index, question in enumerate(survey["spec"]):
        for field, kind in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
            if not isinstance(question.get(field), kind):
                problems.append("question %d: %s must be a %s" % (index, field, kind.__name__))
        if question.get("variable") in seen:
            problems.append("question %d: variable %s twice" % (index, question.get("variable")))
        seen.add(question.get("variable"))
        qtype = question.get("type")
        if qtype not in SURVEY_TYPES:
            problems.append("question %d: type %r is not an AWX survey type" % (index, qtype))
            continue
        default = question.get("default", "")
        if default != "" and not isinstance(default, SURVEY_TYPES[qtype]):
            problems.append("question %d: default %r is not a %s" % (index, default, qtype))
        for key in ("min", "max"):
            if question.get(key) is not None and not isinstance(question[key], int):
                problems.append("question %d: %s must be an integer" % (index, key))
        if qtype in ("multiplechoice", "multiselect"):
            if not question.get("choices"):
                problems.append("question %d: %s needs choices" % (index, qtype))
            elif default != "" and default not in question["choices"]:
                problems.append("question %d: default %r is not one of the choices" % (index, default))
        if qtype == "text" and default != "" and not (question.get("min") or 0) <= len(default) <= question.get("max", 1024):
            problems.append("question %d: default %r is outside min/max" % (index, default))
    return problems


# ---------------------------------------------------------------- templates

def test_every_template_playbook_exists_in_the_collection_and_passes_the_syntax_check():
    assert sorted(t["playbook"] for t in TEMPLATES.values()) == sorted(
        "playbooks/%s.yml" % name for name in ("verify", "soak", "rollback", "hotfix", "evidence"))
    playbooks = [t["playbook"] for t in TEMPLATES.values()] + ["playbooks/awx_configure.yml"]
    for playbook in playbooks:
        assert os.path.isfile(os.path.join(ROOT, playbook)), playbook
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "--syntax-check",
                           "-i", "inventories/staging", "-i", "inventories/prod"] + playbooks,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_templates_use_the_project_the_inventories_and_the_execution_environment_defined_here():
    projects = [p["name"] for p in CONFIG["awx_projects"]]
    inventories = [i["name"] for i in CONFIG["awx_inventories"]]
    environments = [e["name"] for e in CONFIG["awx_execution_environments"]]
    credentials = [c["name"] for c in CONFIG["awx_credentials"]]
    for template in TEMPLATES.values():
        assert template["project"] in projects
        assert template["inventory"] in inventories
        assert template["execution_environment"] in environments
        assert set(template.get("credentials", [])) <= set(credentials)
    sources = dict((s["inventory"], s) for s in CONFIG["awx_inventory_sources"])
    assert sorted(sources) == sorted(inventories)
    for name, source in sources.items():
        assert source["source"] == "scm" and source["source_project"] in projects
        assert os.path.isfile(os.path.join(ROOT, source["source_path"])), source["source_path"]
        assert source["source_path"] == "inventories/%s/hosts.yml" % name.split()[-1]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_survey_question_and_extra_variable_is_accepted_by_the_playbooks_roles(name):
    template = TEMPLATES[name]
    assert survey_problems(template["survey_spec"]) == []
    variables = survey_variables(template["survey_spec"])
    for key, value in template.get("extra_vars", {}).items():
        variables.setdefault(key, []).append(value)
    assert variable_problems(template["playbook"], variables) == []


def test_optional_questions_are_only_those_whose_empty_answer_means_not_set():
    # AWX sends an optional question left blank as '' (or null, AWX 24.6.1): the role default must mean the same.
    for template in list(TEMPLATES.values()) + [WORKFLOW]:
        roles = playbook_roles(os.path.join(ROOT, template["playbook"])) if "playbook" in template else [
            FQCN + r for r in ("soak", "rollback")]
        options = {}
        for role in roles:
            options.update(role_options(role))
        for question in template["survey_spec"]["spec"]:
            if not question["required"]:
                assert options[question["variable"]].get("default") in ("", []), (template["name"], question)


def test_a_misspelt_or_mistyped_variable_is_reported():
    assert variable_problems("playbooks/soak.yml", {"soak_duraton": ["2h"]}) == [
        "soak_duraton: no role of playbooks/soak.yml declares it (roles: solvereign.release_ops.soak, "
        "solvereign.release_ops.evidence) and no inventory sets it"]
    problems = variable_problems("playbooks/soak.yml", {"soak_mode": ["sometimes"]})
    assert len(problems) == 1 and "soak_mode='sometimes'" in problems[0] and "live, retrospective" in problems[0]
    problems = variable_problems("playbooks/hotfix.yml", {"hotfix_push": ["maybe"]})
    assert len(problems) == 1 and "hotfix_push" in problems[0]
    broken = copy.deepcopy(TEMPLATES["SOLVEREIGN soak"]["survey_spec"])
    broken["spec"][-2]["default"] = "hourly"
    broken["spec"].append(dict(broken["spec"][0]))
    assert survey_problems(broken) == ["question 4: default 'hourly' is not one of the choices",
                                       "question 6: variable solvereign_release_version twice"]


def test_the_prod_rollback_needs_the_typed_confirmation_and_the_soak_asks_its_duration():
    rollback = dict((q["variable"], q) for q in TEMPLATES["SOLVEREIGN rollback"]["survey_spec"]["spec"])
    assert rollback["rollback_confirm"]["default"] == ""
    assert rollback["rollback_reason"]["required"] and rollback["rollback_reason"]["min"] >= 1
    soak = dict((q["variable"], q) for q in TEMPLATES["SOLVEREIGN soak"]["survey_spec"]["spec"])
    assert soak["soak_duration"]["default"] == "2h"
    for name in ("SOLVEREIGN verify", "SOLVEREIGN soak", "SOLVEREIGN evidence"):
        variables = [q["variable"] for q in TEMPLATES[name]["survey_spec"]["spec"]]
        assert "solvereign_release_version" in variables and "solvereign_release_tag" in variables
    workflow = [q["variable"] for q in WORKFLOW["survey_spec"]["spec"]]
    assert {"solvereign_release_version", "solvereign_release_tag", "soak_duration", "rollback_confirm"} <= set(workflow)


def test_evidence_dirs_are_per_environment_and_release_on_the_evidence_volume():
    for template in TEMPLATES.values():
        directory = template["extra_vars"]["solvereign_evidence_dir"]
        assert directory.startswith("/var/lib/solvereign/evidence/"), directory
    assert TEMPLATES["SOLVEREIGN verify"]["extra_vars"]["solvereign_evidence_dir"] == (
        "/var/lib/solvereign/evidence/{{ solvereign_environment }}/{{ solvereign_release_tag }}")
    config = load_configuration(awx_evidence_root="/srv/evidence")
    assert config["awx_job_templates"][0]["extra_vars"]["solvereign_evidence_dir"].startswith("/srv/evidence/{{ ")


def test_the_credential_type_injects_what_the_inventories_read_from_vault():
    injected = CONFIG["awx_credential_types"][0]["injectors"]["extra_vars"]
    fields = dict((f["id"], f) for f in CONFIG["awx_credential_types"][0]["inputs"]["fields"])
    assert all(f["secret"] for f in fields.values())
    referenced = set()
    for environment in ("staging", "prod"):
        text = open(os.path.join(ROOT, "inventories", environment, "group_vars", environment + ".yml")).read()
        referenced.update(word for word in text.replace("}", " ").split() if word.startswith("vault_"))
    assert referenced and referenced <= set(injected)
    # every injected variable is read by a role (or the inventory), every input is injected
    known = set(inventory_variables()) | referenced
    for role in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")):
        for entry in yaml.safe_load(open(role))["argument_specs"].values():
            known.update(entry.get("options") or {})
    known.update(yaml.safe_load(open(os.path.join(ROOT, "roles", "evidence", "defaults", "main.yml")))["evidence_secret_variables"])
    assert set(injected) <= known, set(injected) - known
    used = " ".join(list(injected.values()) + list(CONFIG["awx_credential_types"][0]["injectors"]["file"].values()))
    assert all("{{ %s }}" % field in used for field in fields), [f for f in fields if "{{ %s }}" % f not in used]
    # the values stay templates for AWX to render, with the job's secrets
    assert injected["vault_solvereign_login_password"] == "{{ login_password }}"


def test_secrets_of_an_environment_go_to_its_credential_only():
    assert [(c["name"], c["environment"]) for c in CONFIG["awx_credentials"]] == [
        ("SOLVEREIGN staging secrets", "staging"), ("SOLVEREIGN prod secrets", "prod")]
    config = load_configuration(awx_machine_credentials={"staging": "", "prod": "prod deploy ssh"})
    nodes = dict((n["identifier"], n) for n in config["awx_workflows"][0]["workflow_nodes"])
    assert nodes["verify_prod"]["related"]["credentials"] == [{"name": "SOLVEREIGN prod secrets"},
                                                              {"name": "prod deploy ssh"}]
    assert nodes["verify_staging"]["related"]["credentials"] == [{"name": "SOLVEREIGN staging secrets"}]


# ---------------------------------------------------------------- the workflow graph

EDGES = ("success_nodes", "failure_nodes", "always_nodes")


def edges(workflow=WORKFLOW):
    found = set()
    for node in workflow["workflow_nodes"]:
        for kind in EDGES:
            for child in node.get("related", {}).get(kind, []):
                found.add((node["identifier"], kind.split("_", maxsplit=1)[0], child["identifier"]))
    return found


def test_the_workflow_graph_is_the_one_described():
    assert edges() == {
        ("verify_staging", "success", "approve_prod"),
        ("verify_staging", "failure", "evidence_staging"),
        ("approve_prod", "success", "verify_prod"),
        ("approve_prod", "failure", "evidence_staging"),
        ("verify_prod", "success", "soak_prod"),
        ("verify_prod", "failure", "evidence_prod"),
        ("soak_prod", "success", "evidence_prod"),
        ("soak_prod", "failure", "rollback_prod"),
        ("rollback_prod", "always", "evidence_prod"),
    }
    kinds = dict((i, (n["unified_job_template"]["type"], n["unified_job_template"]["name"])) for i, n in NODES.items())
    assert kinds == {
        "verify_staging": ("job_template", "SOLVEREIGN verify"),
        "approve_prod": ("workflow_approval", "SOLVEREIGN promote to production"),
        "verify_prod": ("job_template", "SOLVEREIGN verify"), "soak_prod": ("job_template", "SOLVEREIGN soak"),
        "rollback_prod": ("job_template", "SOLVEREIGN rollback"),
        "evidence_prod": ("job_template", "SOLVEREIGN evidence"),
        "evidence_staging": ("job_template", "SOLVEREIGN evidence")}
    inventories = dict((i, n.get("inventory", {}).get("name")) for i, n in NODES.items())
    assert inventories == {"verify_staging": "SOLVEREIGN staging", "approve_prod": None,
                           "verify_prod": "SOLVEREIGN prod", "soak_prod": "SOLVEREIGN prod",
                           "rollback_prod": "SOLVEREIGN prod", "evidence_prod": "SOLVEREIGN prod",
                           "evidence_staging": "SOLVEREIGN staging"}
    assert NODES["approve_prod"]["unified_job_template"]["timeout"] == 86400
    assert NODES["soak_prod"]["extra_data"] == {"soak_auto_rollback": False}
    assert NODES["rollback_prod"]["extra_data"]["rollback_soak_gate"] is True


def test_every_node_prompt_is_allowed_by_its_template_and_every_required_answer_is_given():
    workflow_answers = survey_variables(WORKFLOW["survey_spec"])
    for identifier, node in NODES.items():
        if node["unified_job_template"]["type"] != "job_template":
            continue
        template = TEMPLATES[node["unified_job_template"]["name"]]
        if node.get("inventory"):
            assert template["ask_inventory_on_launch"], identifier
        if node.get("related", {}).get("credentials"):
            assert template["ask_credential_on_launch"], identifier
            assert template["credentials"] == ["SOLVEREIGN staging secrets"]
            secrets = [c["name"] for c in node["related"]["credentials"] if c["name"].endswith(" secrets")]
            assert secrets == ["SOLVEREIGN %s secrets" % node["inventory"]["name"].split()[-1]], identifier
        if node.get("extra_data"):
            assert template["ask_variables_on_launch"], identifier
        # a required question without a default would stop the node: the workflow or the node answers it
        for question in template["survey_spec"]["spec"]:
            if question["required"] and question.get("default", "") == "":
                assert question["variable"] in workflow_answers or question["variable"] in node.get("extra_data", {}), (
                    identifier, question["variable"])
        # the workflow's variables, the node's and the artifacts of the nodes before it reach the job
        variables = dict((k, list(v)) for k, v in workflow_answers.items())
        for key, value in node.get("extra_data", {}).items():
            variables.setdefault(key, []).append(value)
        for key, value in ARTIFACTS.items():
            if key in variables or key in ("soak_verdict", "soak_reasons") and identifier == "rollback_prod":
                variables.setdefault(key, []).append(value)
        problems = [p for p in variable_problems(template["playbook"], variables) if "no role of" not in p]
        assert problems == [], identifier
        unknown = [p.split(":")[0] for p in variable_problems(template["playbook"], variables) if "no role of" in p]
        # variables meant for another node of the workflow only
        assert set(unknown) <= {"soak_duration", "rollback_compose_dir", "rollback_confirm"}, (identifier, unknown)


# The set_stats keys of verify, soak and evidence (the artifacts AWX passes on), with a sample value.
ARTIFACTS = {"verify_verdict": "PASS", "verify_counts": {"PASS": 20}, "verify_checklist_path": "/x/checklist.json",
             "soak_verdict": "ROLLBACK", "soak_reasons": ["5xx rate 6% > 5% for 6m"]}


class Job(object):
    """What a node's job does in one scenario: its status and its artifacts (set_stats)."""

    def __init__(self, verdicts):
        self.verdicts = verdicts
        self.acted = []

    def __call__(self, identifier, node, variables):
        v = self.verdicts
        if identifier == "verify_staging":
            return v["staging"] == "PASS", {"verify_verdict": v["staging"]}
        if identifier == "approve_prod":
            return v["approval"], {}
        if identifier == "verify_prod":
            return v["prod"] == "PASS", {"verify_verdict": v["prod"]}
        if identifier == "soak_prod":
            return v["soak"] == "PASS", {"soak_verdict": v["soak"], "soak_reasons": ["reason"]}
        if identifier == "rollback_prod":
            # roles/rollback with rollback_soak_gate: acts only on the soak's ROLLBACK verdict
            if variables.get("rollback_soak_gate") and variables.get("soak_verdict") != "ROLLBACK":
                return True, {}
            self.acted.append(identifier)
            return v["rollback_ok"], {"rollback": {"to": "v3.6.10"}}
        if identifier.startswith("evidence_"):
            # the pack is written; with evidence_fail_on_verdict the job fails on a FAIL checklist
            environment = identifier.split("_")[1]
            failed = (v["staging"] != "PASS") if environment == "staging" else (
                v["prod"] != "PASS" or v["soak"] != "PASS")
            return not (failed and variables.get("evidence_fail_on_verdict")), {}
        raise AssertionError(identifier)


def run_workflow(workflow, job, extra_vars):
    """Run a workflow graph by AWX's rules (awx/main/scheduler/dag_workflow.py): a node runs once all
    its parents are done or will not run, if an edge of a parent that ran fires for its outcome;
    otherwise it is marked do-not-run. Artifacts are passed on to the children, the nearest winning.
    The workflow fails when a node failed without a failure or always edge."""
    nodes = dict((n["identifier"], n) for n in workflow["workflow_nodes"])
    parents = dict((i, []) for i in nodes)
    for parent, kind, child in edges(workflow):
        parents[child].append((parent, kind))
    state, artifacts, order = {}, {}, []
    while len(state) < len(nodes):
        progressed = False
        for identifier in sorted(nodes):
            if identifier in state or any(p not in state for p, _k in parents[identifier]):
                continue
            fired = [p for p, kind in parents[identifier] if state[p] in ("successful", "failed") and (
                kind == "always" or (kind == "success") == (state[p] == "successful"))]
            if parents[identifier] and not fired:
                state[identifier] = "dnr"
            else:
                inherited = {}
                for parent in fired:
                    inherited.update(artifacts[parent])
                variables = dict(nodes[identifier].get("extra_data", {}))
                variables.update(extra_vars)
                variables.update(inherited)
                ok, produced = job(identifier, nodes[identifier], variables)
                state[identifier] = "successful" if ok else "failed"
                artifacts[identifier] = dict(inherited, **produced)
                order.append(identifier)
            progressed = True
        assert progressed, "the graph has a cycle"
    handled = set(p for p, kind, _c in edges(workflow) if kind in ("failure", "always"))
    failed = any(s == "failed" and i not in handled for i, s in state.items())
    return order, ("failed" if failed else "successful")


SCENARIOS = [
    # staging, approval, prod, soak, rollback_ok -> jobs run in order, rollback acted, workflow status
    (("FAIL", True, "PASS", "PASS", True), ["verify_staging", "evidence_staging"], False, "failed"),
    (("PASS", False, "PASS", "PASS", True), ["verify_staging", "approve_prod", "evidence_staging"], False,
     "successful"),
    (("PASS", True, "FAIL", "PASS", True), ["verify_staging", "approve_prod", "verify_prod", "evidence_prod"],
     False, "failed"),
    (("PASS", True, "PASS", "PASS", True),
     ["verify_staging", "approve_prod", "verify_prod", "soak_prod", "evidence_prod"], False, "successful"),
    (("PASS", True, "PASS", "FAIL", True),
     ["verify_staging", "approve_prod", "verify_prod", "soak_prod", "rollback_prod", "evidence_prod"], False,
     "failed"),
    (("PASS", True, "PASS", "INCONCLUSIVE", True),
     ["verify_staging", "approve_prod", "verify_prod", "soak_prod", "rollback_prod", "evidence_prod"], False,
     "failed"),
    (("PASS", True, "PASS", "ROLLBACK", True),
     ["verify_staging", "approve_prod", "verify_prod", "soak_prod", "rollback_prod", "evidence_prod"], True,
     "failed"),
    (("PASS", True, "PASS", "ROLLBACK", False),
     ["verify_staging", "approve_prod", "verify_prod", "soak_prod", "rollback_prod", "evidence_prod"], True,
     "failed"),
]


@pytest.mark.parametrize("verdicts, order, acted, status", SCENARIOS,
                         ids=["staging-FAIL", "approval-denied", "prod-FAIL", "soak-PASS", "soak-FAIL",
                              "soak-INCONCLUSIVE", "soak-ROLLBACK", "soak-ROLLBACK-rollback-fails"])
def test_the_workflow_runs_the_right_nodes_for_every_verdict(verdicts, order, acted, status):
    job = Job(dict(zip(("staging", "approval", "prod", "soak", "rollback_ok"), verdicts)))
    ran, workflow_status = run_workflow(WORKFLOW, job, {"rollback_confirm": "prod"})
    assert ran == order
    assert bool(job.acted) == acted
    # evidence always: exactly one evidence node at the end of every path
    assert [n for n in ran if n.startswith("evidence_")] == [ran[-1]]
    assert workflow_status == status


def test_without_the_gate_a_soak_fail_would_roll_back():
    """The negative case: the rollback node's gate is what keeps FAIL and INCONCLUSIVE from acting."""
    workflow = copy.deepcopy(WORKFLOW)
    for node in workflow["workflow_nodes"]:
        if node["identifier"] == "rollback_prod":
            node["extra_data"] = {}
    job = Job({"staging": "PASS", "approval": True, "prod": "PASS", "soak": "FAIL", "rollback_ok": True})
    run_workflow(workflow, job, {})
    assert job.acted == ["rollback_prod"]


def test_the_configuration_is_applied_in_dependency_order():
    tasks = yaml.safe_load(open(os.path.join(ROLE, "tasks", "main.yml")))
    block = [t for t in tasks if "block" in t][0]
    modules = [[k for k in task if k.startswith("awx.awx.")][0] for task in block["block"]]
    assert modules == ["awx.awx.organization", "awx.awx.execution_environment", "awx.awx.credential_type",
                       "awx.awx.credential", "awx.awx.project", "awx.awx.inventory", "awx.awx.inventory_source",
                       "awx.awx.job_template", "awx.awx.workflow_job_template"]
    assert block["module_defaults"]["group/awx.awx.controller"]["controller_oauthtoken"] == "{{ awx_controller_token }}"

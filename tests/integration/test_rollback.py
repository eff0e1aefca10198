"""Runbook 8.3 (playbooks/rollback.yml) against the project's own Docker engine.

The compose project of tests/stack/compose runs ``solvereign/api:v3.7.0`` on the project's dockerd
(tests/stack/dockerd.py, one per test module); each image answers /api/health with its own
version. The origin is a local bare repository with the tags v3.6.2 v3.6.9 v3.6.10 v3.6.11-rc1
v3.7.0. The SQL rollback runs against the reference stack's real PostgreSQL, and notifications go
to a local HTTP receiver that records what it got. In CI a Docker engine that cannot start fails
these tests.
"""

import hashlib
import json
import os
import subprocess

import psycopg2
import pytest

from tests.integration.conftest import assert_no_traceback, run_playbook
from tests.stack import compose_stack, dockerd
from tests.unit.conftest import LocalServer, Route

PLAYBOOK = "playbooks/rollback.yml"


@pytest.fixture(scope="module")
def engine():
    """The project's dockerd with the four API images; stopped after this module."""
    try:
        host = dockerd.start()
        compose_stack.build_images()
    except (dockerd.DockerdError, compose_stack.dockerd.DockerdError, compose_stack.ComposeStackError) as exc:
        pytest.fail("the test Docker engine did not start: %s" % exc, pytrace=False)
    yield host
    dockerd.stop()


@pytest.fixture
def origin(tmp_path):
    path = str(tmp_path / "origin.git")
    commits = compose_stack.create_origin(path)
    return {"path": path, "commits": commits}


def _deploy(engine, tmp_path, variant):
    project = str(tmp_path / "solvereign")
    container = compose_stack.deploy(project, variant=variant, tag="v3.7.0")
    return {"dir": project, "container": container}


@pytest.fixture
def project(engine, tmp_path):
    """The compose project with the image tag written literally, running v3.7.0."""
    deployed = _deploy(engine, tmp_path, "literal")
    yield deployed
    compose_stack.down(deployed["dir"])


@pytest.fixture
def env_project(engine, tmp_path):
    """The compose project taking the tag from API_TAG in .env, running v3.7.0."""
    deployed = _deploy(engine, tmp_path, "env")
    yield deployed
    compose_stack.down(deployed["dir"])


@pytest.fixture
def receiver():
    server = LocalServer()
    yield server
    server.close()


def rollback(tmp_path, engine, project, origin, evidence="evidence", args=(), **extra):
    variables = {
        "rollback_compose_dir": project["dir"],
        "solvereign_git_repo": origin["path"],
        "solvereign_url": compose_stack.api_url(),
        "solvereign_docker_host": engine,
        "rollback_health_timeout": 20,
        "rollback_health_interval": 1,
    }
    variables.update(extra)
    run = run_playbook(tmp_path / evidence, playbook=PLAYBOOK, extra_vars=variables, args=args)
    path = os.path.join(str(tmp_path / evidence), "rollback", "result.json")
    run.result = json.load(open(path)) if os.path.exists(path) else None
    return run


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def git(origin, *args):
    return subprocess.run(["git", "--git-dir", origin["path"]] + list(args), capture_output=True, text=True,
                          check=False).stdout.strip()


def assert_untouched(project, version="3.7.0"):
    now = compose_stack.service_container(project["dir"])
    assert now["id"] == project["container"]["id"], "the container was recreated"
    assert now["image"] == "solvereign/api:v%s" % version and now["state"] == "running"
    assert compose_stack.health()["version"] == version


def test_rollback_picks_last_good_recreates_and_is_idempotent(tmp_path, engine, project, origin):
    compose_file = os.path.join(project["dir"], "docker-compose.yml")
    compose_sha = sha256(compose_file)

    check = rollback(tmp_path, engine, project, origin, evidence="check", args=["--check"])
    assert check.rc == 0, check.output[-3000:]
    assert check.result["check_mode"] is True and check.result["to"] == "v3.6.10"
    assert_untouched(project)
    assert git(origin, "tag", "-l", "v3.7.0-reverted") == ""

    run = rollback(tmp_path, engine, project, origin)
    assert run.rc == 0, run.output[-3000:]
    assert_no_traceback(run)
    result = run.result
    # v3.6.11-rc1 is a pre-release and v3.6.10 is newer than v3.6.9 and v3.6.2.
    assert (result["from"], result["to"]) == ("v3.7.0", "v3.6.10")
    assert result["changed"] is True and result["refused"] is None and result["error"] is None
    assert result["image_before"] == "solvereign/api:v3.7.0"
    assert result["image_after"] == "solvereign/api:v3.6.10"
    assert result["health_version"] == "3.6.10"
    assert compose_stack.health()["version"] == "3.6.10"
    after = compose_stack.service_container(project["dir"])
    assert after["id"] != project["container"]["id"] and after["image"] == "solvereign/api:v3.6.10"
    assert after["labels"]["solvereign.rollback.from"] == "v3.7.0"
    # The user's compose file is kept as it was; the override file says what runs.
    assert sha256(compose_file) == compose_sha
    assert result["compose"]["plain_up_image"] == "solvereign/api:v3.7.0"
    assert result["compose"]["override_file"].endswith("docker-compose.rollback.yml")
    evidence = tmp_path / "evidence" / "rollback"
    deploy_log = (evidence / "deploy_v3.6.10.log").read_text()
    assert "up -d" in deploy_log and "--force-recreate" in deploy_log
    # No registry here: the pull fails, the image is on the engine, so that is a warning.
    assert "image: pull failed" in deploy_log
    assert "docker pull solvereign/api:v3.6.10 failed" in run.output and "using the image present" in run.output
    report = (evidence / "incident_report.md").read_text()
    assert "Do NOT re-deploy v3.7.0 without a root-cause fix" in report and "v3.6.10" in report
    # The reverted tag: annotated, on the failed release's commit, on the origin.
    assert result["reverted_tag"]["name"] == "v3.7.0-reverted" and result["reverted_tag"]["created"] is True
    assert git(origin, "cat-file", "-t", "v3.7.0-reverted") == "tag"
    assert git(origin, "rev-parse", "v3.7.0-reverted^{commit}") == origin["commits"]["v3.7.0"]
    tag_object = git(origin, "rev-parse", "v3.7.0-reverted")

    again = rollback(tmp_path, engine, project, origin, evidence="again")
    assert again.rc == 0, again.output[-3000:]
    assert again.result["changed"] is False and again.result["container_recreated"] is False
    assert again.result["health_version"] == "3.6.10"
    assert compose_stack.service_container(project["dir"])["id"] == after["id"]
    assert again.result["reverted_tag"]["existed"] is True and again.result["reverted_tag"]["created"] is False
    assert git(origin, "rev-parse", "v3.7.0-reverted") == tag_object, "an existing tag was moved"

    check_again = rollback(tmp_path, engine, project, origin, evidence="check_again", args=["--check"])
    assert check_again.rc == 0, check_again.output[-3000:]
    assert check_again.result["changed"] is False
    assert compose_stack.service_container(project["dir"])["id"] == after["id"]


def test_rollback_with_tag_from_env_file_notifies(tmp_path, engine, env_project, origin, receiver):
    env_file = os.path.join(env_project["dir"], ".env")
    env_sha = sha256(env_file)
    receiver.routes["/hooks/incidents"] = Route(200, "ok", content_type="text/plain")
    receiver.routes["/v1/pages/page42/incidents"] = Route(500, {"error": "down for maintenance"})
    run = rollback(tmp_path, engine, env_project, origin, rollback_version="v3.6.9", rollback_push_tags=False,
                   rollback_reason="P95 latency > 10s for > 5 minutes",
                   rollback_slack_webhook_url=receiver.url + "/hooks/incidents",
                   rollback_statuspage_url=receiver.url, rollback_statuspage_page_id="page42",
                   rollback_statuspage_api_key="statuspage-key-sekrit")
    assert run.rc == 0, run.output[-3000:]
    assert (run.result["to"], run.result["health_version"]) == ("v3.6.9", "3.6.9")
    assert compose_stack.service_container(env_project["dir"])["image"] == "solvereign/api:v3.6.9"
    assert sha256(env_file) == env_sha, ".env was changed"
    assert run.result["compose"]["plain_up_image"] == "solvereign/api:v3.7.0"
    # One webhook message with the reason, the versions and the evidence path.
    posts = [r for r in receiver.requests if r[1] == "/hooks/incidents"]
    assert len(posts) == 1
    text = json.loads(posts[0][3])["text"]
    assert "P95 latency > 10s for > 5 minutes" in text and "v3.7.0" in text and "v3.6.9" in text
    assert os.path.join(str(tmp_path), "evidence", "rollback") in text
    # The status page answered 500: a warning, not a failure; its key never shows.
    incidents = [r for r in receiver.requests if r[1] == "/v1/pages/page42/incidents"]
    assert len(incidents) == 1 and incidents[0][2]["Authorization"] == "OAuth statuspage-key-sekrit"
    assert json.loads(incidents[0][3])["incident"]["status"] == "identified"
    assert run.result["notified"]["slack"] == "sent"
    assert run.result["notified"]["statuspage"].startswith("failed: HTTP 500")
    assert "statuspage-key-sekrit" not in run.output
    # rollback_push_tags: false leaves the origin alone.
    assert run.result["reverted_tag"]["created"] is False
    assert git(origin, "tag", "-l", "v3.7.0-reverted") == ""


@pytest.fixture(scope="class")
def untouched_project(engine, tmp_path_factory):
    """One v3.7.0 deployment for tests that must leave it alone (refusals): the same container throughout."""
    base = tmp_path_factory.mktemp("refusals")
    project = str(base / "solvereign")
    deployed = {"dir": project, "container": compose_stack.deploy(project, variant="literal", tag="v3.7.0")}
    origin_path = str(base / "origin.git")
    deployed["origin"] = {"path": origin_path, "commits": compose_stack.create_origin(origin_path)}
    yield deployed
    compose_stack.down(project)


class TestRefusals:
    """Every refusal happens before anything stops: the same container keeps running v3.7.0."""

    @staticmethod
    def refused(tmp_path, engine, project, **variables):
        run = rollback(tmp_path, engine, project, project["origin"], **variables)
        assert run.rc != 0
        assert_no_traceback(run)
        assert run.result["changed"] is False and run.result["refused"]
        assert_untouched(project)
        assert git(project["origin"], "tag", "-l", "v3.7.0-reverted") == ""
        return run.result["refused"]

    def test_missing_target_image(self, tmp_path, engine, untouched_project):
        refused = self.refused(tmp_path, engine, untouched_project, rollback_image="solvereign/absent")
        assert "solvereign/absent:v3.6.10 is not on the engine and could not be pulled" in refused

    def test_prod_without_confirmation(self, tmp_path, engine, untouched_project):
        refused = self.refused(tmp_path, engine, untouched_project, solvereign_environment="prod",
                               rollback_confirm="yes")
        assert "rollback_confirm=prod" in refused

    @pytest.mark.parametrize("variables, message", [
        ({"rollback_compose_dir": ""}, "rollback_compose_dir is empty"),
        ({"solvereign_url": ""}, "set solvereign_url (or rollback_health_url)"),
        ({"rollback_service": "worker"}, "service 'worker' is not in the compose project"),
        ({"rollback_version": "v3.7.0"}, "is not older than the failed release v3.7.0"),
        ({"rollback_version": "v3.6.11-rc1"}, "is not a release version"),
    ])
    def test_bad_input_names_what_to_set(self, tmp_path, engine, untouched_project, variables, message):
        assert message in self.refused(tmp_path, engine, untouched_project, **variables)


def test_rollback_of_a_rollback_needs_force(tmp_path, engine, project, origin):
    first = rollback(tmp_path, engine, project, origin, evidence="first")
    assert first.rc == 0, first.output[-3000:]
    rolled = compose_stack.service_container(project["dir"])

    again = rollback(tmp_path, engine, project, origin, evidence="again", solvereign_release_tag="v3.6.10")
    assert again.rc != 0
    assert "rollback of a rollback" in again.result["refused"] and "rollback_force" in again.result["refused"]
    assert compose_stack.service_container(project["dir"])["id"] == rolled["id"]
    assert compose_stack.health()["version"] == "3.6.10"

    forced = rollback(tmp_path, engine, project, origin, evidence="forced", solvereign_release_tag="v3.6.10",
                      rollback_force=True)
    assert forced.rc == 0, forced.output[-3000:]
    assert (forced.result["from"], forced.result["to"]) == ("v3.6.10", "v3.6.9")
    assert compose_stack.health()["version"] == "3.6.9"


SQL_OK = """BEGIN;
-- Undo migration 041 (the v3.7.0 hardening) and drop what it added.
DELETE FROM schema_migrations WHERE version = '041';
CREATE TABLE rollback_marker (note text);
INSERT INTO rollback_marker VALUES ('rolled back to 3.6');
COMMIT;
"""

SQL_FAILS_MIDWAY = """DELETE FROM schema_migrations WHERE version IN ('040', '041');
CREATE TABLE rollback_half_done (note text);
INSERT INTO rollback_half_done VALUES ('must not stay');
UPDATE no_such_table SET x = 1;
DELETE FROM schema_migrations;
"""


def _db_state(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version, name, applied_at::text FROM schema_migrations ORDER BY version")
            migrations = cur.fetchall()
            cur.execute("SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                        "'information_schema') ORDER BY 1, 2")
            tables = cur.fetchall()
        return migrations, tables
    finally:
        conn.close()


def test_sql_rollback_all_or_nothing(tmp_path, engine, project, origin, stack):
    info = stack.env()
    dsn = info["owner_database_url"]
    password = dsn.split(":")[2].split("@")[0]
    before = _db_state(dsn)
    bad_file = tmp_path / "rollback_fails.sql"
    bad_file.write_text(SQL_FAILS_MIDWAY)
    good_file = tmp_path / "rollback_to_v3.6.sql"
    good_file.write_text(SQL_OK)
    try:
        wrong = rollback(tmp_path, engine, project, origin, evidence="wrong", rollback_sql_file=str(good_file),
                         rollback_database_url=dsn, rollback_sql_confirm="yes")
        assert wrong.rc != 0
        assert "type the failed release (v3.7.0)" in wrong.result["refused"]
        assert_untouched(project)
        assert _db_state(dsn) == before

        failing = rollback(tmp_path, engine, project, origin, evidence="failing", rollback_sql_file=str(bad_file),
                           rollback_database_url=dsn, rollback_sql_confirm="v3.7.0")
        assert failing.rc != 0
        assert failing.result["sql_applied"] is False
        assert "no_such_table" in failing.result["error"] and "line 4" in failing.result["error"]
        assert _db_state(dsn) == before, "a failing SQL file changed the database"
        assert password not in failing.output

        good = rollback(tmp_path, engine, project, origin, evidence="good", rollback_sql_file=str(good_file),
                        rollback_database_url=dsn, rollback_sql_confirm="v3.7.0")
        assert good.rc == 0, good.output[-3000:]
        assert good.result["sql_applied"] is True and good.result["health_version"] == "3.6.10"
        migrations, tables = _db_state(dsn)
        assert [m[0] for m in migrations] == [m[0] for m in before[0] if m[0] != "041"]
        assert ("public", "rollback_marker") in tables
        evidence = tmp_path / "good" / "rollback"
        assert "041_final_hardening" in (evidence / "schema_migrations_before.log").read_text()
        assert "041_final_hardening" not in (evidence / "schema_migrations_after.log").read_text()
        assert "committed" in (evidence / "sql_rollback.log").read_text()
        for name in os.listdir(str(evidence)):
            assert password not in (evidence / name).read_text()
    finally:
        stack.reset_db()

"""Row 7.2: DB connections against max_connections from PostgreSQL when no gauge reports it.

Only the DB connection signal is asserted: the other signals of the row depend on the traffic of
the last minutes, which earlier tests (database resets, API faults) may have disturbed.
"""

OBSERVABILITY = ["--tags", "observability"]
ABSENT_GAUGE = {"observability_db_max_connections_metric": "pg_settings_max_connections_absent"}


def db_connections(run):
    row = run.row("7.2")
    return row, [f for f in row["findings"] if f["name"].startswith("db connections")]


def test_max_connections_read_from_postgres_when_the_gauge_is_absent(stack, verify):
    run = verify(args=OBSERVABILITY, extra_vars=ABSENT_GAUGE)
    row, findings = db_connections(run)
    assert findings, row
    assert [f["status"] for f in findings] == ["PASS"] * len(findings), findings
    assert "% < 80%" in findings[0]["message"]


def test_without_gauge_and_without_database_the_signal_is_error(stack, verify):
    run = verify(args=OBSERVABILITY, extra_vars=dict(ABSENT_GAUGE, solvereign_database_url=""))
    row, findings = db_connections(run)
    assert findings and findings[0]["status"] == "ERROR" and "no data" in findings[0]["message"], row
    assert row["status"] in ("ERROR", "FAIL")
    assert run.rc != 0

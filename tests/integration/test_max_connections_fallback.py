"""Row 7.2: DB connections against max_connections from PostgreSQL when no gauge reports it."""

OBSERVABILITY = ["--tags", "observability"]
ABSENT_GAUGE = {"observability_db_max_connections_metric": "pg_settings_max_connections_absent"}


def db_connections(run):
    row = run.row("7.2")
    return row, [f for f in row["findings"] if f["name"].startswith("db connections")]


def test_max_connections_read_from_postgres_when_the_gauge_is_absent(stack, verify):
    run = verify(args=OBSERVABILITY, extra_vars=ABSENT_GAUGE)
    row, findings = db_connections(run)
    assert row["status"] == "PASS", row
    assert findings and all(f["status"] == "PASS" for f in findings)


def test_without_gauge_and_without_database_the_signal_is_error(stack, verify):
    run = verify(args=OBSERVABILITY, extra_vars=dict(ABSENT_GAUGE, solvereign_database_url=""))
    row, findings = db_connections(run)
    assert row["status"] == "ERROR"
    assert findings and findings[0]["status"] == "ERROR" and "no data" in findings[0]["message"]
    assert run.rc != 0

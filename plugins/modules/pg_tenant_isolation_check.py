#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, SOLVEREIGN release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pg_tenant_isolation_check
short_description: Prove row level security isolates tenants (runbook row 6.4)
version_added: 0.1.0
description:
  - Runs in one read-only transaction that is rolled back, optionally as O(probe_role)
    (C(SET LOCAL ROLE)), so that the probe sees what the application sees.
  - "Role: a superuser or BYPASSRLS role always bypasses row level security, and a table owner
    does unless the table has C(FORCE ROW LEVEL SECURITY). Probing as such a role proves nothing:
    the row is V(ERROR) and says to set O(probe_role) to the application role. A role that can
    C(SET ROLE) to a bypassing role is a V(WARN)."
  - "Tables: every table with an O(tenant_column) column is found from the catalog (not one sample
    table). For each: RLS enabled, C(row_security_active()) true for the probe role; with
    O(tenant_setting) set to each of O(tenant_ids) by C(set_config(..., true)), no row of another
    tenant is visible; with no tenant set, no row at all is visible. A query refused by the policy
    (an error other than a timeout or a missing privilege) counts as isolated: it fails closed."
  - Each tenant is set inside a savepoint that is rolled back, so no setting outlives the probe,
    not even in the check's own session, and a pooled connection is never left with a tenant.
  - "Lints: a table with policies but RLS disabled (V(FAIL)); RLS enabled without any policy
    (V(WARN), everything is denied); a permissive always-true policy (V(FAIL)); a view over a tenant
    table without C(security_invoker) (V(WARN), it runs with its owner's rights); a
    C(SECURITY DEFINER) function without a pinned C(search_path) (V(WARN))."
  - Leak samples are bounded (at most O(sample_limit) rows per table and tenant) so the probe stays
    cheap on large tables.
author:
  - SOLVEREIGN release engineering (@solvereign)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - solvereign.release_ops.check_row
  - solvereign.release_ops.postgres
options:
  tenant_column:
    description: Name of the column that holds the tenant of a row.
    type: str
    default: tenant_id
  tenant_setting:
    description: The setting the RLS policies read the current tenant from.
    type: str
    default: app.current_tenant_id
  tenant_ids:
    description:
      - Tenants to probe as. The runbook probes as V(999), a tenant that owns nothing; probing as a
        real tenant (C(solvereign_tenant_id)) as well shows that the filter is not just empty.
    type: list
    elements: str
    default: ["999"]
  sample_limit:
    description: Most rows read per table and tenant when looking for leaked rows.
    type: int
    default: 100
  evidence_dir:
    description: Directory for the evidence file. Empty to write none.
    type: path
  evidence_name:
    description: File name of the evidence file in O(evidence_dir). Empty to write none.
    type: str
    default: tenant_isolation.log
"""

EXAMPLES = r"""
- name: Tenant isolation smoke (row 6.4), judged as the application role
  solvereign.release_ops.pg_tenant_isolation_check:
    check_id: "6.4"
    check_title: Tenant isolation
    environment: staging
    dsn: "{{ solvereign_database_url }}"
    probe_role: solvereign_app
    tenant_ids: ["999", "{{ solvereign_tenant_id }}"]
  delegate_to: localhost
  no_log: true
  register: isolation
"""

RETURN = r"""
row:
  description:
    - The checklist row, with C(id), C(environment), C(title), C(status) (V(PASS), V(WARN),
      V(FAIL), V(ERROR) or V(SKIP)), C(summary), C(findings) (each with C(name), C(status),
      C(message)), C(started_at), C(duration_s) and, unless it passes, C(advice).
  returned: always
  type: dict
status:
  description: The row's status.
  returned: always
  type: str
role:
  description: Who the probe ran as.
  returned: when connected
  type: dict
  sample: {"current_user": "solvereign_readonly", "session_user": "solvereign_readonly", "superuser": false, "bypassrls": false}
tables:
  description: Every tenant table found, with its RLS state and what each probe saw.
  returned: always
  type: list
  elements: dict
  sample:
    - table: plans
      rls_enabled: true
      rls_forced: true
      rls_active: true
      policies: 1
      probes: [{"tenant": "999", "other_tenant_rows": 0}, {"tenant": null, "visible_rows": 0}]
evidence_file:
  description: Path of the evidence file written, or null.
  returned: always
  type: str
"""

import json
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.solvereign.release_ops.plugins.module_utils.postgres import (
    IDENTITY,
    PgError,
    add_error,
    ensure_required_libs,
    evidence_text,
    postgres_common_argument_spec,
    save_evidence,
    session_from_module,
)
from ansible_collections.solvereign.release_ops.plugins.module_utils.result import (
    ERROR,
    FAIL,
    PASS,
    SEVERITY,
    WARN,
    check_common_argument_spec,
    exit_with_row,
    new_row,
)

try:
    from psycopg2 import sql as pgsql
except ImportError:  # pragma: no cover - reported by ensure_required_libs
    pgsql = None

_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_.]*$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# Schemas that belong to PostgreSQL itself.
_USER_SCHEMAS = ("n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'")

TENANT_TABLES = """
SELECT c.oid::bigint AS oid, n.nspname AS schema, c.relname AS name, c.oid::regclass::text AS "table",
       format_type(a.atttypid, a.atttypmod) AS column_type,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       pg_get_userbyid(c.relowner) AS owner,
       pg_has_role(current_user, c.relowner, 'USAGE') AS owned_by_probe,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       row_security_active(c.oid) AS rls_active,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policies
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND """ + _USER_SCHEMAS + """
ORDER BY 4
"""

ESCALATION_ROLES = """
SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls
FROM pg_roles r
WHERE (r.rolsuper OR r.rolbypassrls) AND r.rolname <> current_user
  AND pg_has_role(current_user, r.oid, 'MEMBER')
ORDER BY 1
"""

LINT_POLICY_WITHOUT_RLS = """
SELECT c.oid::regclass::text AS "table", string_agg(p.polname, ', ' ORDER BY p.polname) AS policies
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT c.relrowsecurity AND """ + _USER_SCHEMAS + """
GROUP BY 1 ORDER BY 1
"""

LINT_RLS_WITHOUT_POLICY = """
SELECT c.oid::regclass::text AS "table"
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND """ + _USER_SCHEMAS + """
  AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
ORDER BY 1
"""

LINT_POLICIES = """
SELECT c.oid::regclass::text AS "table", p.polname AS policy, p.polpermissive AS permissive, p.polcmd AS command,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr, pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE """ + _USER_SCHEMAS + """
ORDER BY 1, 2
"""

LINT_VIEWS = """
SELECT DISTINCT v.oid::regclass::text AS view, v.relkind AS kind, t.oid::regclass::text AS "table"
FROM pg_class v
JOIN pg_namespace n ON n.oid = v.relnamespace
JOIN pg_rewrite r ON r.ev_class = v.oid
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                 AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
JOIN pg_class t ON t.oid = d.refobjid
WHERE v.relkind IN ('v', 'm') AND """ + _USER_SCHEMAS + """
  AND t.oid = ANY(%(tables)s::oid[])
  AND NOT (v.relkind = 'v' AND EXISTS (
      SELECT 1 FROM pg_options_to_table(v.reloptions) o
      WHERE o.option_name = 'security_invoker' AND lower(o.option_value) IN ('true', 'on', '1', 'yes')))
ORDER BY 1, 3
"""

LINT_SECURITY_DEFINER = """
SELECT p.oid::regprocedure::text AS function, pg_get_userbyid(p.proowner) AS owner
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prosecdef AND """ + _USER_SCHEMAS + """
  AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}'::text[])) cfg WHERE cfg LIKE 'search\\_path=%')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.deptype = 'e')
ORDER BY 1
"""

_ALWAYS_TRUE = re.compile(r"^\(*\s*(true|'t'::boolean|1\s*=\s*1|'true'::boolean)\s*\)*$", re.I)


def always_true(expression):
    return bool(expression) and bool(_ALWAYS_TRUE.match(expression.strip()))


def worst(statuses):
    return max(statuses, key=SEVERITY.get) if statuses else PASS


def listing(items, limit=8):
    text = ", ".join(items[:limit])
    if len(items) > limit:
        text += " and %d more" % (len(items) - limit)
    return text


class IsolationProbe(object):
    def __init__(self, module, db, row):
        self.p = module.params
        self.db = db
        self.row = row
        self.tables = []
        self.log = []

    # Role ------------------------------------------------------------------------------
    def judge_role(self, identity, escalations):
        """Whether ``identity`` (the session's role) is subject to row level security; ``escalations``
        are the roles it can switch to that bypass it."""
        user = identity.get("current_user")
        reasons = []
        if identity.get("superuser"):
            reasons.append("a superuser")
        if identity.get("bypassrls"):
            reasons.append("BYPASSRLS")
        how = "probing as %s" % user
        if identity.get("session_user") != user:
            how += " (SET LOCAL ROLE from %s)" % identity.get("session_user")
        self.log.append("-- %s; superuser=%s bypassrls=%s row_security=%s"
                        % (how, identity.get("superuser"), identity.get("bypassrls"), identity.get("row_security")))
        if reasons:
            self.row.error(
                "role", "isolation not proven: %s, and role %s is %s, which bypasses row level security, so "
                "every probe would see every tenant. Set database_probe_role (module option probe_role) to the "
                "application role, e.g. solvereign_app, so the probe runs SET LOCAL ROLE to it, or use the "
                "read-only DSN" % (how, user, " and ".join(reasons)),
                current_user=user, session_user=identity.get("session_user"))
            self.row.advice.append("Set database_probe_role to the application role (SET LOCAL ROLE) or point "
                                   "solvereign_database_url at the read-only role; superuser and BYPASSRLS "
                                   "roles bypass RLS")
            return False
        if identity.get("row_security") == "off":
            self.row.warn("role", "%s with row_security=off: queries that RLS would filter raise errors instead"
                          % how)
        else:
            self.row.passed("role", "%s: NOSUPERUSER NOBYPASSRLS, subject to row level security" % how)
        if escalations:
            names = ["%s (%s)" % (e["role"], "superuser" if e["superuser"] else "BYPASSRLS") for e in escalations]
            self.row.warn("role_escalation", "%s can SET ROLE to %s, which bypass(es) row level security: a "
                          "session of this role is one statement away from every tenant's rows"
                          % (user, listing(names)), roles=[e["role"] for e in escalations])
        return True

    # Tables ----------------------------------------------------------------------------
    def discover(self, tables):
        """Takes the rows of TENANT_TABLES."""
        self.tables = tables
        for table in self.tables:
            table["probes"] = []
            table["problems"] = []
        self.log.append("-- %d table(s) with a %s column: %s" % (
            len(self.tables), self.p["tenant_column"], ", ".join(t["table"] for t in self.tables) or "none"))
        return self.tables

    def judge_rls_state(self, table, user):
        problems = table["problems"]
        if not table["rls_enabled"]:
            problems.append((FAIL, "RLS disabled (ENABLE ROW LEVEL SECURITY is missing): every role with "
                                   "SELECT reads every tenant's rows"))
        elif table["owned_by_probe"] and not table["rls_forced"]:
            # The owner sees every row, so probing this table as the owner proves nothing.
            table["bypassed"] = True
            problems.append((ERROR, "isolation not proven: %s owns it (owner %s) and FORCE ROW LEVEL SECURITY "
                                    "is off, so the owner bypasses RLS; probe as the application role "
                                    "(database_probe_role) or ALTER TABLE %s FORCE ROW LEVEL SECURITY"
                                    % (user, table["owner"], table["table"])))
        elif not table["policies"]:
            problems.append((WARN, "RLS enabled but no policy: every row is denied (default deny)"))
        if table["rls_enabled"] and not table["rls_active"] and not table["owned_by_probe"]:
            problems.append((FAIL, "row_security_active() is false for %s" % user))

    def _count_statement(self, table, tenant):
        relation = pgsql.Identifier(table["schema"], table["name"])
        column = pgsql.Identifier(self.p["tenant_column"])
        limit = pgsql.Literal(self.p["sample_limit"])
        if tenant is None:
            return pgsql.SQL(
                "SELECT count(*)::int AS n, array_agg(DISTINCT s.tenant::text) AS tenants FROM "
                "(SELECT {col} AS tenant FROM {rel} LIMIT {limit}) s").format(col=column, rel=relation, limit=limit)
        return pgsql.SQL(
            "SELECT count(*)::int AS n, array_agg(DISTINCT s.tenant::text) AS tenants FROM "
            "(SELECT {col} AS tenant FROM {rel} WHERE {col}::text IS DISTINCT FROM %(tenant)s LIMIT {limit}) s"
        ).format(col=column, rel=relation, limit=limit)

    def probe_tables(self, tables, tenant):
        """Probe ``tables`` in one statement (a round trip, not one per table); when that statement
        fails (a policy that refuses a probe, a timeout), each table on its own, so every table gets
        its own answer."""
        if len(tables) > 1:
            union = pgsql.SQL(" UNION ALL ").join(
                pgsql.SQL("SELECT {index} AS probe, p.n, p.tenants FROM ({count}) p").format(
                    index=pgsql.Literal(index), count=self._count_statement(table, tenant))
                for index, table in enumerate(tables))
            label = "probing %d tables %s" % (
                len(tables), "without a tenant" if tenant is None else "as tenant %s" % tenant)
            try:
                results = dict((r["probe"], r) for r in self.db.query(union, {"tenant": tenant}, label=label))
            except PgError:
                results = None
            if results is not None and len(results) == len(tables):
                for index, table in enumerate(tables):
                    self._judge_probe(table, tenant, results[index])
                return
        for table in tables:
            self.probe_table(table, tenant)

    def probe_table(self, table, tenant):
        """Count rows of other tenants (or, without a tenant, any row) visible in ``table``."""
        label = "probing %s %s" % (table["table"], "without a tenant" if tenant is None
                                   else "as tenant %s" % tenant)
        probe = {"tenant": tenant}
        try:
            result = self.db.query(self._count_statement(table, tenant), {"tenant": tenant}, label=label)[0]
        except PgError as exc:
            if exc.kind in ("timeout", "connect", "permission", "read_only", "missing"):
                probe["error"] = exc.message
                table["problems"].append((ERROR, exc.message))
            else:
                # The policy refused the query (e.g. a cast of an unset tenant): it fails closed.
                probe["refused"] = exc.message
            table["probes"].append(probe)
            return probe
        return self._judge_probe(table, tenant, result)

    def _judge_probe(self, table, tenant, result):
        probe = {"tenant": tenant}
        n = result["n"]
        tenants = sorted(t for t in (result["tenants"] or []) if t is not None) + (
            ["NULL"] if None in (result["tenants"] or []) else [])
        more = "at least " if n >= self.p["sample_limit"] else ""
        if tenant is None:
            probe["visible_rows"] = n
            if n:
                table["problems"].append((FAIL, "%s%d row(s) visible with no tenant set (tenants %s)"
                                          % (more, n, ", ".join(tenants))))
        else:
            probe["other_tenant_rows"] = n
            if n:
                table["problems"].append((FAIL, "%s%d row(s) of other tenants (%s) visible with %s=%s"
                                          % (more, n, ", ".join(tenants), self.p["tenant_setting"], tenant)))
        if n:
            probe["leaked_tenants"] = tenants
        table["probes"].append(probe)
        return probe

    def run_probes(self, readable, initial):
        """``initial``: the tenant setting as the session started."""
        setting = self.p["tenant_setting"]
        # No tenant set. A value the session starts with (role or database default, DSN options)
        # would apply to every connection of this role that forgets to set its tenant.
        with self.db.scope():
            if initial not in (None, ""):
                self.row.warn("default_tenant", "sessions of this role start with %s=%s (role/database default or "
                              "connection options): a connection that sets no tenant sees that tenant"
                              % (setting, initial))
                self.db.query("SELECT set_config(%s, '', true)", (setting,), label="clearing %s" % setting)
            self.probe_tables(readable, None)
        for tenant in self.p["tenant_ids"]:
            with self.db.scope():
                self.db.query("SELECT set_config(%s, %s, true)", (setting, tenant),
                              label="setting %s=%s" % (setting, tenant))
                self.probe_tables(readable, tenant)
        after = self.db.scalar("SELECT current_setting(%s, true)", (setting,), label="reading %s" % setting)
        # A custom setting once set reads as '' after the rollback instead of NULL; both mean unset.
        if (after or "") != (initial or ""):
            raise PgError("query", "%s is %r after the probe, expected %r: the tenant setting outlived its "
                                   "savepoint" % (setting, after, initial))

    def table_findings(self, user):
        for table in self.tables:
            name = "table:%s" % table["table"]
            problems = table["problems"]
            data = dict(rls_enabled=table["rls_enabled"], rls_forced=table["rls_forced"],
                        rls_active=table["rls_active"], policies=table["policies"])
            if not table["can_select"]:
                if not problems:
                    self.row.warn(name, "%s: not readable by %s, not probed; probe as the application role "
                                  "(database_probe_role) to cover it" % (table["table"], user), **data)
                    continue
            if problems:
                status = worst([p[0] for p in problems])
                shown = [m for s, m in problems if s == status] + [m for s, m in problems if s != status]
                self.row.add(name, status, "%s: %s" % (table["table"], "; ".join(shown)), **data)
            else:
                probes = ["tenant %s" % p["tenant"] for p in table["probes"] if p["tenant"] is not None]
                refused = [p for p in table["probes"] if p.get("refused")]
                text = "%s: RLS %s, active for %s; 0 rows of other tenants as %s; 0 rows with no tenant set" % (
                    table["table"], "enabled and forced" if table["rls_forced"] else "enabled", user,
                    " and ".join(probes) or "no tenant")
                if refused:
                    text += "; %d probe(s) refused by the policy (fails closed)" % len(refused)
                self.row.passed(name, text, **data)

    # Lints ------------------------------------------------------------------------------
    def lints(self):
        tables = [t["oid"] for t in self.tables]
        # Five catalog queries, one round trip.
        without_rls, without_policy, policies, views, definers = self.db.query_together(
            [(LINT_POLICY_WITHOUT_RLS, None), (LINT_RLS_WITHOUT_POLICY, None), (LINT_POLICIES, None),
             (LINT_VIEWS, {"tables": tables}), (LINT_SECURITY_DEFINER, None)],
            label="linting the row level security setup (policies, tables, views, SECURITY DEFINER functions)")
        rows = without_rls
        if rows:
            self.row.fail("lint:policy_without_rls", "policies exist but RLS is disabled (they do nothing) on %s"
                          % listing(["%s (%s)" % (r["table"], r["policies"]) for r in rows]),
                          tables=[r["table"] for r in rows])
        else:
            self.row.passed("lint:policy_without_rls", "no table has policies with RLS disabled")

        rows = without_policy
        if rows:
            self.row.warn("lint:rls_without_policy", "RLS enabled without any policy (every row denied) on %s"
                          % listing([r["table"] for r in rows]), tables=[r["table"] for r in rows])
        else:
            self.row.passed("lint:rls_without_policy", "every table with RLS enabled has a policy")

        rows = policies
        trivial = ["%s.%s" % (r["table"], r["policy"]) for r in rows
                   if r["permissive"] and (always_true(r["using_expr"]) or
                                           (r["command"] in ("a", "w", "*") and always_true(r["check_expr"])))]
        if trivial:
            self.row.fail("lint:always_true_policy", "permissive always-true policies (they admit every row) on %s"
                          % listing(trivial), policies=trivial)
        else:
            self.row.passed("lint:always_true_policy", "no permissive always-true policy (%d policies)" % len(rows))

        rows = views
        if rows:
            items = ["%s%s over %s" % (r["view"], " (materialized)" if r["kind"] == "m" else "", r["table"])
                     for r in rows]
            self.row.warn("lint:view_security_invoker",
                          "views over tenant tables without security_invoker run with their owner's rights "
                          "(RLS of the owner, not the caller): %s" % listing(items), views=items)
        else:
            self.row.passed("lint:view_security_invoker", "no view over a tenant table without security_invoker")

        rows = definers
        if rows:
            items = ["%s (owner %s)" % (r["function"], r["owner"]) for r in rows]
            self.row.warn("lint:security_definer_search_path",
                          "SECURITY DEFINER functions without a pinned search_path (ALTER FUNCTION ... SET "
                          "search_path = pg_catalog, <schema>): %s" % listing(items), functions=items)
        else:
            self.row.passed("lint:security_definer_search_path", "every SECURITY DEFINER function pins search_path")


def main(module_factory=AnsibleModule):
    argument_spec = check_common_argument_spec()
    argument_spec.update(postgres_common_argument_spec())
    argument_spec.update(
        tenant_column=dict(type="str", default="tenant_id"),
        tenant_setting=dict(type="str", default="app.current_tenant_id"),
        tenant_ids=dict(type="list", elements="str", default=["999"]),
        sample_limit=dict(type="int", default=100),
        evidence_dir=dict(type="path"),
        evidence_name=dict(type="str", default="tenant_isolation.log"),
    )
    module = module_factory(argument_spec=argument_spec, supports_check_mode=True)
    ensure_required_libs(module)
    p = module.params
    if not _COLUMN.match(p["tenant_column"]):
        module.fail_json(msg="tenant_column %r is not a column name" % p["tenant_column"])
    if not _SETTING.match(p["tenant_setting"]):
        module.fail_json(msg="tenant_setting %r is not a custom setting name such as app.current_tenant_id"
                         % p["tenant_setting"])
    p["tenant_ids"] = [str(t).strip() for t in p["tenant_ids"] if str(t).strip()]
    if not p["tenant_ids"]:
        module.fail_json(msg="tenant_ids needs at least one tenant to probe as, for example ['999']")
    if p["sample_limit"] < 1:
        module.fail_json(msg="sample_limit must be at least 1")

    row = new_row(module)
    row.advice = ["DO NOT proceed to production", "Review the RLS policies on the affected tables",
                  "Check verify_final_hardening() for specific failures"]
    result = dict(tables=[], evidence_file=None)
    session = None
    probe = None
    try:
        session = session_from_module(module)
        with session as db:
            # The role, what it can switch to, the tenant tables and the tenant setting: one round trip.
            identities, escalations, tables, setting = db.query_together(
                [(IDENTITY, None), (ESCALATION_ROLES, None), (TENANT_TABLES, {"column": p["tenant_column"]}),
                 ("SELECT current_setting(%(setting)s, true) AS value", {"setting": p["tenant_setting"]})],
                label="reading the connection role, the roles it can switch to, the tables with a %s column and %s"
                % (p["tenant_column"], p["tenant_setting"]))
            identity = identities[0] if identities else {}
            identity_keys = ("current_user", "session_user", "superuser", "bypassrls", "database")
            result["role"] = dict((k, identity.get(k)) for k in identity_keys)
            probe = IsolationProbe(module, db, row)
            subject_to_rls = probe.judge_role(identity, escalations)
            tables = probe.discover(tables)
            user = identity.get("current_user")
            if not tables:
                row.error("tables", "no table with a %s column in database %s: wrong database, or set "
                          "database_tenant_column" % (p["tenant_column"], identity.get("database")))
            elif subject_to_rls:
                for table in tables:
                    probe.judge_rls_state(table, user)
                readable = [t for t in tables if t["can_select"] and not t.get("bypassed")]
                if not readable and not [t for t in tables if t.get("bypassed")]:
                    row.error("tables", "none of the %d tenant tables is readable by %s: nothing was probed; "
                              "probe as the application role (database_probe_role)" % (len(tables), user))
                elif readable:
                    probe.run_probes(readable, setting[0]["value"] if setting else None)
                probe.table_findings(user)
            else:
                for table in tables:
                    if not table["rls_enabled"]:
                        row.fail("table:%s" % table["table"], "%s: RLS disabled: every role with SELECT reads "
                                 "every tenant's rows" % table["table"])
            probe.lints()
    except PgError as exc:
        add_error(row, "isolation", exc)
    if probe is not None and row.status == PASS and probe.tables:
        row.summary = ("%d tenant tables (%s) isolated for %s: no rows of other tenants as tenant %s, none "
                       "without a tenant; RLS lints clean" % (
                           len(probe.tables), listing([t["table"] for t in probe.tables], 6),
                           result["role"]["current_user"], ", ".join(p["tenant_ids"])))
    if probe is not None:
        result["tables"] = [dict((k, v) for k, v in t.items() if k not in ("problems", "oid", "bypassed"))
                            for t in probe.tables]
    if session is not None and p["evidence_dir"] and p["evidence_name"] and probe is not None:
        body = "\n".join(probe.log) + "\n" + json.dumps(
            {"status": row.status, "findings": [f.to_dict() for f in row.findings], "tables": result["tables"]},
            indent=1, sort_keys=True) + "\n"
        result["evidence_file"] = save_evidence(row, p["evidence_dir"], p["evidence_name"],
                                                evidence_text(session, "tenant isolation probe", body))
    exit_with_row(module, row, **result)


if __name__ == "__main__":
    main()

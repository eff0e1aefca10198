"""Fault catalogue of the SOLVEREIGN reference stack.

Each fault changes exactly one behaviour of the healthy stack so that a check
can be shown to detect it.  API faults are read by the API process from the
``SOLVEREIGN_FAULTS`` environment variable; DB faults are SQL applied to the
``solvereign`` database (as the owner role) right after the schema is loaded.

Stdlib only: imported by stackctl.py and by api/app.py.
"""

API_FAULTS = {
    "wrong_version": "/api/health reports version 3.6.2 and the 3.6.2 commit",
    "ready_503": "/api/health/ready answers 503 although the database is reachable",
    "health_not_json": "/api/health answers 200 with an HTML page instead of JSON",
    "weak_hsts": "Strict-Transport-Security is max-age=300 (no includeSubDomains)",
    "missing_xfo": "X-Frame-Options header is not sent",
    "csp_unsafe_inline": "Content-Security-Policy is default-src 'self'; script-src 'self' 'unsafe-inline'",
    "cookie_no_httponly": "session cookie is set without HttpOnly",
    "cookie_samesite_none": "session cookie is set with SameSite=None and without Secure",
    "cookie_samesite_none_secure": "session cookie is set with SameSite=None; Secure (browsers keep it)",
    "cookie_no_samesite": "session cookie is set without a SameSite attribute (browsers treat it as Lax)",
    "login_accepts_bad_password": "a failed login is answered 200 with a valid session",
    "failed_login_sets_cookie": "a failed login is answered 401 but sets a session cookie",
    "me_without_session_200": "/api/auth/me answers 200 (dispatcher) without a session",
    "sendgrid_accepts_bad_signature": "SendGrid webhook accepts any (or no) signature",
    "whatsapp_accepts_bad_signature": "WhatsApp webhook accepts any (or no) signature",
    "billing_accepts_bad_signature": "billing webhook accepts any (or no) signature",
    "sendgrid_missing_from_openapi": "SendGrid webhook route is not registered (absent from /openapi.json, 404)",
    "whatsapp_missing_from_openapi": "WhatsApp webhook route is not registered (absent from /openapi.json, 404)",
    "billing_missing": "billing webhook route is not registered (404, absent from /openapi.json)",
    "slow_p95": "GET /api/v1/plans takes ~2.5 s for 90% of requests",
    "high_5xx_rate": "GET /api/v1/plans answers 500 for ~20% of requests (logged as ERROR)",
    "metrics_absent": "/metrics answers 404 (Prometheus target goes down)",
    "login_hangs": "POST /api/auth/login sleeps 60 s before answering",
    "ui_console_error": "login page JavaScript throws a TypeError after loading (login still works)",
    "ui_dashboard_without_name": "the dashboard header shows 'Signed in' (or the e-mail's local part), not the user's name",
    "ui_dashboard_console_error": "dashboard JavaScript throws a TypeError after showing the user (login works)",
    "ui_login_redirects_elsewhere": "a successful UI login lands on /platform/welcome instead of /platform-admin",
    "ui_login_rejects_valid_password": "the login form mangles the password it sends, so a valid login is refused",
}

# Variants: the same healthy SOLVEREIGN with other markup or wording, on which every check must
# still pass. Applied like API faults (SOLVEREIGN_FAULTS) and combinable with them.
API_VARIANTS = {
    "ui_plain_markup": "login page and dashboard in plain markup: no ids, data-testid attributes only, a text "
                       "e-mail field found by autocomplete/label, a button without type, the name nested in <header>",
}

# name -> (description, SQL run as solvereign_owner in database solvereign)
DB_FAULTS = {
    "migration_039": (
        "latest applied migration is 039 (rows 040 and 041 deleted)",
        "DELETE FROM schema_migrations WHERE version IN ('040', '041');",
    ),
    "migration_missing_applied_at": (
        "migration 038 has applied_at NULL",
        "UPDATE schema_migrations SET applied_at = NULL WHERE version = '038';",
    ),
    "hardening_policy_dropped": (
        "RLS policy on drivers dropped: verify_final_hardening() reports FAIL",
        "DROP POLICY tenant_isolation ON drivers;",
    ),
    "hardening_function_missing": (
        "verify_final_hardening() does not exist",
        "DROP FUNCTION verify_final_hardening();",
    ),
    "rbac_12_of_13": (
        "auth.verify_rbac_integrity() returns only 12 of its 13 checks (all PASS)",
        """
ALTER FUNCTION auth.verify_rbac_integrity() RENAME TO verify_rbac_integrity_full;
CREATE FUNCTION auth.verify_rbac_integrity()
RETURNS TABLE (check_name text, status text, details text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, auth
AS $$
    SELECT f.check_name, f.status, f.details
    FROM auth.verify_rbac_integrity_full() AS f
    WHERE f.check_name <> 'active_users_have_binding'
$$;
ALTER FUNCTION auth.verify_rbac_integrity() OWNER TO solvereign_auditor;
REVOKE ALL ON FUNCTION auth.verify_rbac_integrity() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.verify_rbac_integrity() TO solvereign_app, solvereign_readonly;
""",
    ),
    "rls_disabled_plans": (
        "row level security disabled on plans (cross-tenant rows visible)",
        "ALTER TABLE plans DISABLE ROW LEVEL SECURITY;",
    ),
    "second_tenant_table_without_rls": (
        "new table invoices (tenant_id, rows of tenants 1-3) without RLS, readable by the read-only role",
        """
CREATE TABLE invoices (
    id         serial PRIMARY KEY,
    tenant_id  integer NOT NULL REFERENCES tenants(id),
    number     text NOT NULL,
    amount_eur numeric(12, 2) NOT NULL,
    issued_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO invoices (tenant_id, number, amount_eur) VALUES
    (1, 'INV-2026-0001', 1200.00), (1, 'INV-2026-0002', 310.50),
    (2, 'INV-2026-0101', 980.00),  (3, 'INV-2026-0201', 45.00);
REVOKE ALL ON invoices FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON invoices TO solvereign_app;
GRANT SELECT ON invoices TO solvereign_readonly;
""",
    ),
    "always_true_policy_notifications": (
        "a permissive policy USING (true) on notifications beside the tenant policy (every tenant's rows visible)",
        "CREATE POLICY reporting_all ON notifications FOR SELECT USING (true);",
    ),
    "view_without_security_invoker": (
        "view plans_overview over plans without security_invoker, readable by the read-only role",
        """
CREATE VIEW plans_overview AS SELECT id, tenant_id FROM plans;
GRANT SELECT ON plans_overview TO solvereign_readonly;
""",
    ),
    "security_definer_without_search_path": (
        "SECURITY DEFINER function public.plan_count() without a pinned search_path",
        """
CREATE FUNCTION public.plan_count() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
AS 'SELECT count(*) FROM plans';
REVOKE ALL ON FUNCTION public.plan_count() FROM PUBLIC;
""",
    ),
}

ALL_FAULTS = tuple(API_FAULTS) + tuple(API_VARIANTS) + tuple(DB_FAULTS)


def split_faults(faults):
    """Validate fault names; return (api_faults, db_faults) as sorted tuples.

    Raises ValueError naming the unknown faults and the valid ones.
    """
    if isinstance(faults, str):
        faults = faults.split(",")
    names = [f.strip() for f in faults if f and f.strip()]
    api_names = set(API_FAULTS) | set(API_VARIANTS)
    unknown = sorted({n for n in names if n not in api_names and n not in DB_FAULTS})
    if unknown:
        raise ValueError(
            "unknown fault(s): %s; valid API faults: %s; API variants: %s; valid DB faults: %s"
            % (", ".join(unknown), ", ".join(API_FAULTS), ", ".join(API_VARIANTS), ", ".join(DB_FAULTS))
        )
    api = tuple(sorted({n for n in names if n in api_names}))
    db = tuple(sorted({n for n in names if n in DB_FAULTS}))
    return api, db

-- SOLVEREIGN v3.7.0 reference schema (state after migration 041).
-- Applied as solvereign_owner to a freshly created database "solvereign".

\set ON_ERROR_STOP on
SET client_min_messages = warning;

REVOKE ALL ON DATABASE solvereign FROM PUBLIC;
GRANT CONNECT ON DATABASE solvereign TO solvereign_app, solvereign_readonly, solvereign_monitor;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO solvereign_app, solvereign_readonly, solvereign_auditor;

-- ---------------------------------------------------------------------------
-- Migrations
-- ---------------------------------------------------------------------------
CREATE TABLE schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz
);

INSERT INTO schema_migrations (version, name, applied_at)
SELECT m.version, m.name,
       timestamptz '2025-03-01 09:00:00+00' + (m.ord - 1) * interval '7 days'
FROM (VALUES
    (1,  '001', '001_initial_core'),
    (2,  '002', '002_tenants'),
    (3,  '003', '003_sites'),
    (4,  '004', '004_drivers'),
    (5,  '005', '005_vehicles'),
    (6,  '006', '006_plans'),
    (7,  '007', '007_plan_assignments'),
    (8,  '008', '008_auth_users'),
    (9,  '009', '009_auth_sessions'),
    (10, '010', '010_rls_tenants'),
    (11, '011', '011_rls_plans'),
    (12, '012', '012_audit_log'),
    (13, '013', '013_notifications'),
    (14, '014', '014_notification_templates'),
    (15, '015', '015_sendgrid_events'),
    (16, '016', '016_whatsapp_events'),
    (17, '017', '017_driver_availability'),
    (18, '018', '018_plan_versions'),
    (19, '019', '019_solver_runs'),
    (20, '020', '020_solver_kpis'),
    (21, '021', '021_site_calendars'),
    (22, '022', '022_rls_drivers'),
    (23, '023', '023_rls_sites'),
    (24, '024', '024_billing_customers'),
    (25, '025', '025_billing_subscriptions'),
    (26, '026', '026_billing_webhook_events'),
    (27, '027', '027_rbac_roles'),
    (28, '028', '028_rbac_permissions'),
    (29, '029', '029_rbac_role_permissions'),
    (30, '030', '030_rbac_user_bindings'),
    (31, '031', '031_rbac_seed'),
    (32, '032', '032_rls_notifications'),
    (33, '033', '033_tenant_settings'),
    (34, '034', '034_plan_publish_workflow'),
    (35, '035', '035_driver_portal_tokens'),
    (36, '036', '036_force_rls'),
    (37, '037', '037_security_definer_search_path'),
    (38, '038', '038_revoke_public_grants'),
    (39, '039', '039_readonly_role'),
    (40, '040', '040_verify_rbac_integrity'),
    (41, '041', '041_final_hardening')
) AS m (ord, version, name);

-- ---------------------------------------------------------------------------
-- Tenancy and business tables (public schema)
-- ---------------------------------------------------------------------------
CREATE TABLE tenants (
    id         integer PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sites (
    id        integer PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants(id),
    name      text NOT NULL,
    timezone  text NOT NULL DEFAULT 'Europe/Vienna'
);

CREATE TABLE drivers (
    id        serial PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants(id),
    site_id   integer NOT NULL REFERENCES sites(id),
    full_name text NOT NULL,
    phone     text,
    active    boolean NOT NULL DEFAULT true
);

CREATE TABLE plans (
    id         serial PRIMARY KEY,
    tenant_id  integer NOT NULL REFERENCES tenants(id),
    site_id    integer NOT NULL REFERENCES sites(id),
    plan_date  date NOT NULL,
    status     text NOT NULL CHECK (status IN ('draft', 'solved', 'published', 'archived')),
    tours      integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    id          serial PRIMARY KEY,
    tenant_id   integer NOT NULL REFERENCES tenants(id),
    channel     text NOT NULL CHECK (channel IN ('email', 'whatsapp')),
    recipient   text NOT NULL,
    status      text NOT NULL,
    provider_id text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tenants (id, name) VALUES
    (1, 'LTS Transport'), (2, 'Alpen Logistik'), (3, 'Donau Freight');

INSERT INTO sites (id, tenant_id, name) VALUES
    (10, 1, 'Wien Nord'), (11, 1, 'Wien Sued'),
    (20, 2, 'Innsbruck'),
    (30, 3, 'Linz Hafen');

INSERT INTO drivers (tenant_id, site_id, full_name, phone) VALUES
    (1, 10, 'Anna Berger',   '+43 660 1000001'),
    (1, 10, 'Lukas Huber',   '+43 660 1000002'),
    (1, 11, 'Sophie Wagner', '+43 660 1000003'),
    (2, 20, 'Jakob Pichler', '+43 660 2000001'),
    (2, 20, 'Lena Moser',    '+43 660 2000002'),
    (3, 30, 'Felix Steiner', '+43 660 3000001');

INSERT INTO plans (tenant_id, site_id, plan_date, status, tours) VALUES
    (1, 10, date '2026-01-12', 'published', 42),
    (1, 10, date '2026-01-13', 'solved',    40),
    (1, 11, date '2026-01-12', 'published', 18),
    (1, 11, date '2026-01-13', 'draft',      0),
    (2, 20, date '2026-01-12', 'published', 25),
    (2, 20, date '2026-01-13', 'solved',    27),
    (3, 30, date '2026-01-12', 'published', 12);

INSERT INTO notifications (tenant_id, channel, recipient, status, provider_id) VALUES
    (1, 'email',    'anna.berger@lts.at',  'delivered', 'sg-0001'),
    (1, 'whatsapp', '+43 660 1000002',     'read',      'wamid.0001'),
    (2, 'email',    'jakob@alpen.example', 'delivered', 'sg-0101'),
    (3, 'whatsapp', '+43 660 3000001',     'sent',      'wamid.0201');

-- ---------------------------------------------------------------------------
-- Auth and RBAC (schema auth)
-- ---------------------------------------------------------------------------
CREATE SCHEMA auth;
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO solvereign_app, solvereign_readonly, solvereign_auditor;
-- The auditor owns auth.verify_rbac_integrity(); owning a function needs CREATE on its schema.
GRANT CREATE ON SCHEMA auth TO solvereign_auditor;

-- Global identities (a user may be bound to several tenants).
CREATE TABLE auth.users (
    id            integer PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    display_name  text NOT NULL,
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.roles (
    id          integer PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);

CREATE TABLE auth.permissions (
    id          integer PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    description text NOT NULL
);

CREATE TABLE auth.role_permissions (
    role_id       integer NOT NULL REFERENCES auth.roles(id),
    permission_id integer NOT NULL REFERENCES auth.permissions(id),
    PRIMARY KEY (role_id, permission_id)
);

-- Tenant-scoped: which user holds which role in which tenant/site.
CREATE TABLE auth.user_bindings (
    id        serial PRIMARY KEY,
    user_id   integer NOT NULL REFERENCES auth.users(id),
    tenant_id integer NOT NULL REFERENCES tenants(id),
    site_id   integer REFERENCES sites(id),
    role_id   integer NOT NULL REFERENCES auth.roles(id),
    UNIQUE (user_id, tenant_id, site_id, role_id)
);

-- Passwords: pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>
INSERT INTO auth.users (id, email, password_hash, display_name) VALUES
    (101, 'dispatcher@lts.at',
     'pbkdf2_sha256$100000$5f1c2a9e7d3b4c6a$db60dbf4a7b1170740066571693eb35c85ca6ae6aa25ba42fccb31b5db728725',
     'Dana Dispatcher'),
    (201, 'dispatcher@alpen.example',
     'pbkdf2_sha256$100000$a1b2c3d4e5f60718$06c97f2b218da44d5e5a2117300cc3ed9f7bdc9e83432ff61252028d4f719b00',
     'Toni Alpen'),
    (301, 'viewer@donau.example',
     'pbkdf2_sha256$100000$0f9e8d7c6b5a4938$27a6ae0cd1118940abe42b0dc1fddfb8c5980118fa822fc1f2922f1c7ca2bb0c',
     'Vera Viewer');

INSERT INTO auth.roles (id, name, description) VALUES
    (1, 'platform_admin', 'Operates the platform across tenants'),
    (2, 'tenant_admin',   'Administers one tenant'),
    (3, 'operator_admin', 'Manages sites and drivers of a tenant'),
    (4, 'dispatcher',     'Plans and publishes tours for a site'),
    (5, 'viewer',         'Read-only access to plans');

INSERT INTO auth.permissions (id, code, description) VALUES
    (1,  'plans.read',          'Read plans'),
    (2,  'plans.write',         'Create and solve plans'),
    (3,  'plans.publish',       'Publish plans to drivers'),
    (4,  'drivers.read',        'Read drivers'),
    (5,  'drivers.write',       'Manage drivers'),
    (6,  'sites.read',          'Read sites'),
    (7,  'sites.write',         'Manage sites'),
    (8,  'notifications.read',  'Read notifications'),
    (9,  'notifications.send',  'Send notifications'),
    (10, 'users.read',          'Read users of a tenant'),
    (11, 'users.write',         'Manage users of a tenant'),
    (12, 'billing.read',        'Read billing data'),
    (13, 'tenants.manage',      'Create and suspend tenants');

INSERT INTO auth.role_permissions (role_id, permission_id)
SELECT 1, id FROM auth.permissions;                                   -- platform_admin: all
INSERT INTO auth.role_permissions (role_id, permission_id)
SELECT 2, id FROM auth.permissions WHERE code <> 'tenants.manage';    -- tenant_admin
INSERT INTO auth.role_permissions (role_id, permission_id)
SELECT 3, id FROM auth.permissions
WHERE code IN ('plans.read', 'drivers.read', 'drivers.write', 'sites.read', 'sites.write', 'notifications.read');
INSERT INTO auth.role_permissions (role_id, permission_id)
SELECT 4, id FROM auth.permissions
WHERE code IN ('plans.read', 'plans.write', 'plans.publish', 'drivers.read', 'sites.read',
               'notifications.read', 'notifications.send');
INSERT INTO auth.role_permissions (role_id, permission_id)
SELECT 5, id FROM auth.permissions WHERE code LIKE '%.read' AND code NOT IN ('users.read', 'billing.read');

INSERT INTO auth.user_bindings (user_id, tenant_id, site_id, role_id) VALUES
    (101, 1, 10, 4),
    (201, 2, 20, 4),
    (301, 3, 30, 5);

-- ---------------------------------------------------------------------------
-- Row level security: every table with a tenant_id column
-- ---------------------------------------------------------------------------
-- No tenant set (missing or empty setting) yields NULL, so no rows match.
ALTER TABLE sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE sites FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sites
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer);

ALTER TABLE drivers ENABLE ROW LEVEL SECURITY;
ALTER TABLE drivers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON drivers
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer);

ALTER TABLE plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE plans FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON plans
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer);

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notifications
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer);

-- Bindings are visible within the current tenant, and to the user they belong
-- to (the login flow sets app.current_user_id before it knows the tenant).
ALTER TABLE auth.user_bindings ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.user_bindings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.user_bindings
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer
           OR user_id = NULLIF(current_setting('app.current_user_id', true), '')::integer)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::integer);

-- ---------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA auth FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, sites, drivers, plans, notifications TO solvereign_app;
GRANT SELECT ON schema_migrations TO solvereign_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO solvereign_app;
GRANT SELECT ON auth.users, auth.roles, auth.permissions, auth.role_permissions, auth.user_bindings TO solvereign_app;
GRANT UPDATE (is_active) ON auth.users TO solvereign_app;

GRANT SELECT ON schema_migrations, tenants, sites, drivers, plans, notifications TO solvereign_readonly;
GRANT SELECT ON auth.roles, auth.permissions, auth.role_permissions, auth.user_bindings TO solvereign_readonly;
GRANT SELECT (id, email, display_name, is_active, created_at) ON auth.users TO solvereign_readonly;

GRANT SELECT ON auth.users, auth.roles, auth.permissions, auth.role_permissions, auth.user_bindings TO solvereign_auditor;
GRANT SELECT ON tenants TO solvereign_auditor;

-- ---------------------------------------------------------------------------
-- verify_final_hardening(): computed from the live catalog
-- ---------------------------------------------------------------------------
CREATE FUNCTION verify_final_hardening()
RETURNS TABLE (check_name text, status text, details text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
    bad  text;
    n    integer;
    tbls oid[];
BEGIN
    -- Tables (not views) in application schemas that carry a tenant_id column.
    SELECT COALESCE(array_agg(c.oid), '{}') INTO tbls
    FROM pg_class c
    JOIN pg_namespace ns ON ns.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p')
      AND ns.nspname NOT IN ('pg_catalog', 'information_schema')
      AND ns.nspname NOT LIKE 'pg_temp%' AND ns.nspname NOT LIKE 'pg_toast%';

    n := cardinality(tbls);
    check_name := 'tenant_tables_found';
    status := CASE WHEN n > 0 THEN 'PASS' ELSE 'FAIL' END;
    details := n || ' tables with a tenant_id column';
    RETURN NEXT;

    SELECT string_agg(t.oid::regclass::text, ', ' ORDER BY t.oid::regclass::text) INTO bad
    FROM unnest(tbls) AS t(oid) JOIN pg_class c ON c.oid = t.oid
    WHERE NOT c.relrowsecurity;
    check_name := 'rls_enabled';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('RLS disabled on: ' || bad, 'RLS enabled on all ' || n || ' tenant tables');
    RETURN NEXT;

    SELECT string_agg(t.oid::regclass::text, ', ' ORDER BY t.oid::regclass::text) INTO bad
    FROM unnest(tbls) AS t(oid) JOIN pg_class c ON c.oid = t.oid
    WHERE NOT c.relforcerowsecurity;
    check_name := 'rls_forced';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('RLS not forced on: ' || bad, 'RLS forced on all ' || n || ' tenant tables');
    RETURN NEXT;

    SELECT string_agg(t.oid::regclass::text, ', ' ORDER BY t.oid::regclass::text) INTO bad
    FROM unnest(tbls) AS t(oid)
    WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid);
    check_name := 'tenant_policies_present';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('no policy on: ' || bad, 'every tenant table has a policy');
    RETURN NEXT;

    SELECT string_agg(t.oid::regclass::text, ', ' ORDER BY t.oid::regclass::text) INTO bad
    FROM unnest(tbls) AS t(oid)
    WHERE EXISTS (
        SELECT 1 FROM pg_policy p
        WHERE p.polrelid = t.oid
          AND (pg_get_expr(p.polqual, p.polrelid) IS NULL
               OR pg_get_expr(p.polqual, p.polrelid) !~ 'current_setting\(''app\.current_tenant_id''')
    );
    check_name := 'tenant_policies_use_tenant_setting';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('policy not bound to app.current_tenant_id on: ' || bad,
                        'all policies filter on app.current_tenant_id');
    RETURN NEXT;

    SELECT string_agg(DISTINCT t.oid::regclass::text, ', ') INTO bad
    FROM unnest(tbls) AS t(oid)
    JOIN pg_class c ON c.oid = t.oid
    CROSS JOIN LATERAL aclexplode(c.relacl) acl
    WHERE acl.grantee = 0;
    check_name := 'no_public_grants';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('PUBLIC has privileges on: ' || bad, 'no PUBLIC privileges on tenant tables');
    RETURN NEXT;

    SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO bad
    FROM pg_roles r
    WHERE r.rolname IN ('solvereign_app', 'solvereign_readonly')
      AND (r.rolsuper OR r.rolbypassrls);
    check_name := 'app_roles_subject_to_rls';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('superuser or BYPASSRLS: ' || bad, 'solvereign_app and solvereign_readonly are NOSUPERUSER NOBYPASSRLS');
    RETURN NEXT;

    SELECT string_agg(DISTINCT t.oid::regclass::text, ', ') INTO bad
    FROM unnest(tbls) AS t(oid)
    JOIN pg_class c ON c.oid = t.oid
    JOIN pg_roles r ON r.oid = c.relowner
    WHERE r.rolname IN ('solvereign_app', 'solvereign_readonly') OR r.rolsuper;
    check_name := 'tenant_tables_owner';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('owned by an application/superuser role: ' || bad, 'tenant tables owned by solvereign_owner');
    RETURN NEXT;

    SELECT string_agg(DISTINCT t.oid::regclass::text, ', ') INTO bad
    FROM unnest(tbls) AS t(oid)
    JOIN pg_class c ON c.oid = t.oid
    WHERE has_table_privilege('solvereign_readonly', c.oid, 'INSERT')
       OR has_table_privilege('solvereign_readonly', c.oid, 'UPDATE')
       OR has_table_privilege('solvereign_readonly', c.oid, 'DELETE')
       OR has_table_privilege('solvereign_readonly', c.oid, 'TRUNCATE');
    check_name := 'readonly_role_select_only';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('solvereign_readonly can write to: ' || bad, 'solvereign_readonly has no write privileges');
    RETURN NEXT;

    SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO bad
    FROM pg_roles r
    WHERE r.rolbypassrls AND NOT r.rolsuper AND r.rolcanlogin;
    check_name := 'bypassrls_roles_nologin';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('login roles with BYPASSRLS: ' || bad, 'no non-superuser login role has BYPASSRLS');
    RETURN NEXT;

    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO bad
    FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace
    WHERE p.prosecdef
      AND ns.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%');
    check_name := 'security_definer_search_path';
    status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('SECURITY DEFINER without pinned search_path: ' || bad,
                        'all SECURITY DEFINER functions pin search_path');
    RETURN NEXT;
END;
$$;

REVOKE ALL ON FUNCTION verify_final_hardening() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION verify_final_hardening() TO solvereign_app, solvereign_readonly;

-- ---------------------------------------------------------------------------
-- auth.verify_rbac_integrity(): 13 checks over the RBAC tables.
-- SECURITY DEFINER owned by the NOLOGIN BYPASSRLS auditor role so that it sees
-- the bindings of every tenant.
-- ---------------------------------------------------------------------------
CREATE FUNCTION auth.verify_rbac_integrity()
RETURNS TABLE (check_name text, status text, details text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, auth
AS $$
DECLARE
    bad text;
    n   integer;
BEGIN
    -- 1
    SELECT string_agg(x.name, ', ' ORDER BY x.name) INTO bad
    FROM unnest(ARRAY['platform_admin', 'tenant_admin', 'operator_admin', 'dispatcher', 'viewer']) AS x(name)
    WHERE NOT EXISTS (SELECT 1 FROM auth.roles r WHERE r.name = x.name);
    check_name := 'core_roles_present'; status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('missing roles: ' || bad, '5 core roles present'); RETURN NEXT;

    -- 2
    SELECT count(*) INTO n FROM auth.permissions;
    check_name := 'permissions_present'; status := CASE WHEN n > 0 THEN 'PASS' ELSE 'FAIL' END;
    details := n || ' permissions'; RETURN NEXT;

    -- 3
    SELECT count(*) INTO n FROM auth.role_permissions rp
    WHERE NOT EXISTS (SELECT 1 FROM auth.roles r WHERE r.id = rp.role_id);
    check_name := 'role_permissions_valid_role'; status := CASE WHEN n = 0 THEN 'PASS' ELSE 'FAIL' END;
    details := n || ' grants reference a missing role'; RETURN NEXT;

    -- 4
    SELECT count(*) INTO n FROM auth.role_permissions rp
    WHERE NOT EXISTS (SELECT 1 FROM auth.permissions p WHERE p.id = rp.permission_id);
    check_name := 'role_permissions_valid_permission'; status := CASE WHEN n = 0 THEN 'PASS' ELSE 'FAIL' END;
    details := n || ' grants reference a missing permission'; RETURN NEXT;

    -- 5
    SELECT string_agg(r.name, ', ' ORDER BY r.name) INTO bad FROM auth.roles r
    WHERE NOT EXISTS (SELECT 1 FROM auth.role_permissions rp WHERE rp.role_id = r.id);
    check_name := 'every_role_has_permissions'; status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('roles without permissions: ' || bad, 'every role has at least one permission'); RETURN NEXT;

    -- 6
    SELECT string_agg(d.name, ', ' ORDER BY d.name) INTO bad
    FROM (SELECT lower(r.name) AS name FROM auth.roles r GROUP BY 1 HAVING count(*) > 1) d;
    check_name := 'role_names_unique'; status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('duplicate role names: ' || bad, 'role names unique (case-insensitive)'); RETURN NEXT;

    -- 7
    SELECT string_agg(d.code, ', ' ORDER BY d.code) INTO bad
    FROM (SELECT lower(p.code) AS code FROM auth.permissions p GROUP BY 1 HAVING count(*) > 1) d;
    check_name := 'permission_codes_unique'; status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('duplicate permission codes: ' || bad, 'permission codes unique (case-insensitive)'); RETURN NEXT;

    -- 8
    SELECT count(*) INTO n FROM auth.permissions p
    WHERE NOT EXISTS (SELECT 1 FROM auth.role_permissions rp JOIN auth.roles r ON r.id = rp.role_id
                      WHERE r.name = 'platform_admin' AND rp.permission_id = p.id);
    check_name := 'platform_admin_has_all_permissions'; status := CASE WHEN n = 0 THEN 'PASS' ELSE 'FAIL' END;
    details := n || ' permissions missing from platform_admin'; RETURN NEXT;

    -- 9
    SELECT string_agg(p.code, ', ' ORDER BY p.code) INTO bad
    FROM auth.role_permissions rp JOIN auth.roles r ON r.id = rp.role_id JOIN auth.permissions p ON p.id = rp.permission_id
    WHERE r.name = 'viewer' AND p.code NOT LIKE '%.read';
    check_name := 'viewer_is_read_only'; status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('viewer holds write permissions: ' || bad, 'viewer holds only *.read permissions'); RETURN NEXT;

    -- 10
    SELECT string_agg(r.name || '->tenants.manage', ', ') INTO bad
    FROM auth.role_permissions rp JOIN auth.roles r ON r.id = rp.role_id JOIN auth.permissions p ON p.id = rp.permission_id
    WHERE p.code = 'tenants.manage' AND r.name <> 'platform_admin';
    check_name := 'tenants_manage_platform_only'; status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('tenants.manage granted to: ' || bad, 'tenants.manage held by platform_admin only'); RETURN NEXT;

    -- 11
    SELECT count(*) INTO n FROM auth.user_bindings b
    WHERE NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = b.user_id)
       OR NOT EXISTS (SELECT 1 FROM auth.roles r WHERE r.id = b.role_id);
    check_name := 'bindings_reference_valid_users_and_roles'; status := CASE WHEN n = 0 THEN 'PASS' ELSE 'FAIL' END;
    details := n || ' bindings with a missing user or role'; RETURN NEXT;

    -- 12
    SELECT count(*) INTO n FROM auth.user_bindings b
    WHERE NOT EXISTS (SELECT 1 FROM public.tenants t WHERE t.id = b.tenant_id);
    check_name := 'bindings_reference_valid_tenants'; status := CASE WHEN n = 0 THEN 'PASS' ELSE 'FAIL' END;
    details := n || ' bindings with a missing tenant'; RETURN NEXT;

    -- 13
    SELECT string_agg(u.email, ', ' ORDER BY u.email) INTO bad FROM auth.users u
    WHERE u.is_active AND NOT EXISTS (SELECT 1 FROM auth.user_bindings b WHERE b.user_id = u.id);
    check_name := 'active_users_have_binding'; status := CASE WHEN bad IS NULL THEN 'PASS' ELSE 'FAIL' END;
    details := COALESCE('active users without a binding: ' || bad, 'every active user has a binding'); RETURN NEXT;
END;
$$;

ALTER FUNCTION auth.verify_rbac_integrity() OWNER TO solvereign_auditor;
REVOKE ALL ON FUNCTION auth.verify_rbac_integrity() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.verify_rbac_integrity() TO solvereign_app, solvereign_readonly;

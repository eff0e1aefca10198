-- Cluster-level roles of the SOLVEREIGN reference database.
-- Run by the bootstrap superuser (psql, ON_ERROR_STOP) with variables
-- owner_pw, app_pw, readonly_pw, monitor_pw, admin_pw.  Idempotent.

SELECT 'CREATE ROLE solvereign_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'solvereign_owner') \gexec
SELECT 'CREATE ROLE solvereign_app' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'solvereign_app') \gexec
SELECT 'CREATE ROLE solvereign_readonly' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'solvereign_readonly') \gexec
SELECT 'CREATE ROLE solvereign_monitor' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'solvereign_monitor') \gexec
SELECT 'CREATE ROLE solvereign_auditor' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'solvereign_auditor') \gexec

-- Owns every object of the solvereign database; an ordinary role.
ALTER ROLE solvereign_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'owner_pw';
-- Used by the API.  Subject to RLS.
ALTER ROLE solvereign_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'app_pw';
-- Used by operators and release checks.  SELECT only, read-only transactions.
ALTER ROLE solvereign_readonly LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'readonly_pw';
ALTER ROLE solvereign_readonly SET default_transaction_read_only = on;
-- Used by the metrics collector (postgres_exporter equivalent).
ALTER ROLE solvereign_monitor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'monitor_pw';
ALTER ROLE solvereign_monitor SET default_transaction_read_only = on;
GRANT pg_monitor TO solvereign_monitor;
-- Owns the RBAC integrity function only; cannot log in.
ALTER ROLE solvereign_auditor NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS;
GRANT solvereign_auditor TO solvereign_owner;

ALTER ROLE CURRENT_USER PASSWORD :'admin_pw';

DROP DATABASE IF EXISTS solvereign WITH (FORCE);
CREATE DATABASE solvereign OWNER solvereign_owner;

-- The two database roles of ccm (idempotent). Run as a PostgreSQL superuser.
-- ccm_owner owns the tables and runs migrations; ccm_app is what the app and the tests use:
-- neither superuser nor owner, so the FORCEd row-level-security policies bind it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ccm_owner') THEN
    CREATE ROLE ccm_owner LOGIN CREATEDB PASSWORD 'ccm_owner';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ccm_app') THEN
    CREATE ROLE ccm_app LOGIN PASSWORD 'ccm_app';
  END IF;
END $$;
ALTER ROLE ccm_owner NOSUPERUSER CREATEDB NOBYPASSRLS;
ALTER ROLE ccm_app NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
SELECT 'CREATE DATABASE ccm OWNER ccm_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ccm')\gexec

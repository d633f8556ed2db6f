-- After the migrations, as the owner role: the login of the API servers (DATABASE_APP_URL).
-- Request transactions SET LOCAL ROLE engagement_app, and each server's outbox reader
-- connects in the role engagement_outbox, so the login is a member of both and has no other
-- privilege. Idempotent: run it on every release.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'engagement_api') THEN
    CREATE ROLE engagement_api LOGIN PASSWORD 'api-password' NOSUPERUSER NOBYPASSRLS;
  END IF;
END
$$;
GRANT engagement_app, engagement_outbox TO engagement_api;
GRANT CONNECT ON DATABASE engagement TO engagement_api;

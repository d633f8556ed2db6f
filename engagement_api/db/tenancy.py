"""Names shared by the row-level-security migration and the per-request session."""

APP_ROLE = "engagement_app"
"""The restricted role every request transaction assumes (no superuser, no BYPASSRLS)."""

ORG_SETTING = "app.org_id"
"""Per-transaction setting: the viewer's organization, the key of every tenant policy."""

VIEWER_FUNCTION = "engagement_viewer"
"""SECURITY DEFINER function: sets both settings for the transaction, returns the viewer's row."""

USER_SETTING = "app.user_id"
"""Per-transaction setting: the token's subject, admitted by the viewer-lookup policy."""


def current_uuid_setting(name: str) -> str:
    """SQL reading a per-transaction uuid setting once per statement (a scalar sub-select)."""
    return f"(SELECT NULLIF(current_setting('{name}', true), '')::uuid)"


OUTBOX_ROLE = "engagement_outbox"
"""The role each process's outbox reader assumes (its connections' `role` setting): reads
every tenant's events and prunes them, nothing else. The servers' login is a member of
it, as of `APP_ROLE`."""


def ensure_role_sql(role: str) -> str:
    """The migrations' SQL creating a cluster-wide restricted role once (every database of
    the cluster shares it) and granting it to the migrating role when that is no superuser."""
    return f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
            BEGIN
              CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
              NULL;  -- another database's first migration created it meanwhile
            END;
          END IF;
          IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('GRANT {role} TO %I', current_user);
          END IF;
        END
        $$
        """


BYPASSES_ROW_LEVEL_SECURITY = (
    "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
)
"""Whether the connection's role sees every tenant's rows (the owner connection the seed
and the token command need: FORCE ROW LEVEL SECURITY applies to the tables' owner too)."""

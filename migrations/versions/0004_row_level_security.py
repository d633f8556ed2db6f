"""Row-level security on every tenant table (domain rules, section 5).

Request transactions assume the restricted role `engagement_app` with SET LOCAL ROLE
and set `app.org_id` (and `app.user_id` for the viewer lookup) with set_config(..., true),
so nothing survives into another request on a pooled connection. The settings are read
through scalar sub-selects, evaluated once per statement, not once per row.

The viewer lookup, before the organization is known, is one call of the SECURITY DEFINER
function `engagement_viewer(subject)`: it sets `app.user_id` and `app.org_id` for the
transaction and returns the subject's row only (a narrow path; the `viewer_lookup` policy
admits that row as well when the function's owner is subject to RLS).

The role is cluster-wide and shared by every database of the cluster: downgrade revokes
this database's grants and leaves the role.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from engagement_api.db.tenancy import (
    APP_ROLE,
    ORG_SETTING,
    USER_SETTING,
    VIEWER_FUNCTION,
    current_uuid_setting,
    ensure_role_sql,
)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "users",
    "services",
    "proposals",
    "orders",
    "engagements",
    "projects",
    "conversations",
    "conversation_messages",
)
ORG = current_uuid_setting(ORG_SETTING)
USER = current_uuid_setting(USER_SETTING)


def upgrade() -> None:
    op.execute(ensure_role_sql(APP_ROLE))
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON organizations, alembic_version TO {APP_ROLE}")
    op.execute("ALTER TABLE organizations ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE organizations FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON organizations USING (id = {ORG})")
    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING (org_id = {ORG}) "
            f"WITH CHECK (org_id = {ORG})"
        )
    op.execute(f"CREATE POLICY viewer_lookup ON users FOR SELECT USING (id = {USER})")
    op.execute(
        f"""
        CREATE FUNCTION {VIEWER_FUNCTION}(subject uuid) RETURNS SETOF users
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        BEGIN
          PERFORM set_config('{USER_SETTING}', subject::text, true);
          RETURN QUERY
            SELECT u.* FROM users u
            WHERE u.id = subject
              AND set_config('{ORG_SETTING}', u.org_id::text, true) IS NOT NULL;
        END
        $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {VIEWER_FUNCTION}(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {VIEWER_FUNCTION}(uuid) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {VIEWER_FUNCTION}(uuid)")
    op.execute("DROP POLICY viewer_lookup ON users")
    for table in (*TENANT_TABLES, "organizations"):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")

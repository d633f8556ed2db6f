"""Deterministic demo and benchmark data (`engagement-api seed`, `serve --demo`).

Every id is a uuid5 of a stable name, every timestamp an offset from 2026-01-01T00:00:00Z,
and every random choice comes from a `random.Random` seeded by the organization's key:
two runs produce identical rows. Seeding runs in one transaction under an advisory lock
and does nothing when the demo organization already exists, so `serve --demo` may call
it at every start. Rows go in with COPY; the owner connection (superuser or BYPASSRLS)
writes every tenant at once.

scale 1 (demo): "Acme Studio" (admin@acme.test, staff@acme.test, pat@freelance.test,
client1..client5@acme.test, 3 services, 10 engagements, 30 projects, 20 conversations,
10 proposals, 10 orders) and "Globex" (admin@globex.test, staff@globex.test,
pat@freelance.test, client@globex.test and a little data). pat@freelance.test works
for both organizations: the token command needs `--org` for that email.

scale N > 1 (benchmark): Acme Studio with 20*N clients, 10 engagements per client
(200*N), 5 projects per engagement (every 10th soft-deleted), 3 conversations per
engagement of 40 messages each (about 30% internal, 10% with attachments, 5% soft-deleted),
2 orders per engagement, 2 proposals per client, plus one extra conversation of
10,000*N messages on client1's first engagement; and the small organizations Globex
and Initech. Scale 10: 2,000 engagements, 200 clients, 240,000 messages + a
100,000-message thread.
"""

from engagement_api.cli.seed.database import SeedError, SeedSummary, run_seed, seed_database
from engagement_api.cli.seed.dataset import SEEDED_TABLES, build_dataset
from engagement_api.cli.seed.plans import (
    DEMO_ADMIN_EMAIL,
    DEMO_CLIENT_EMAIL,
    DEMO_ORG_ID,
    DEMO_ORG_KEY,
    DEMO_ORG_NAME,
    DEMO_STAFF_EMAIL,
    SHARED_STAFF_EMAIL,
    OrgPlan,
    SeedUser,
    plans_for_scale,
    user_id,
)

__all__ = [
    "DEMO_ADMIN_EMAIL",
    "DEMO_CLIENT_EMAIL",
    "DEMO_ORG_ID",
    "DEMO_ORG_KEY",
    "DEMO_ORG_NAME",
    "DEMO_STAFF_EMAIL",
    "SEEDED_TABLES",
    "SHARED_STAFF_EMAIL",
    "OrgPlan",
    "SeedError",
    "SeedSummary",
    "SeedUser",
    "build_dataset",
    "plans_for_scale",
    "run_seed",
    "seed_database",
    "user_id",
]

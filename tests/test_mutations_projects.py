"""createProject, updateProject, setProjectStatus, setProjectPhase, deleteProject through
the API, each checked in the database afterwards."""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from engagement_api.db.enums import EngagementStatus, ProjectPhase, ProjectStatus
from engagement_api.db.models import Project
from engagement_api.schema.ids import parse_global_id
from tests.conftest import GraphQLClient
from tests.factories import BASE_TIME, World
from tests.mutations import cast, codes, count_where, error_fields, mutate, row_of, stored

PROJECT = "project { id name description status phase completedAt service { id } }"


async def test_staff_creates_a_project_in_kickoff_by_default(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    service = await world.service(c.org)
    payload = await mutate(
        gql,
        "createProject",
        {
            "engagementId": c.engagement.gid,
            "name": " Site ",
            "description": " Pages ",
            "serviceId": service.gid,
        },
        token=c.staff.token,
        select=PROJECT,
    )
    assert payload["project"]["service"]["id"] == service.gid
    project_id = parse_global_id(payload["project"]["id"], "Project")
    assert project_id is not None
    row = await stored(owner_engine, Project, project_id)
    assert (row.engagement_id, row.org_id, row.name, row.description) == (
        c.engagement.id,
        c.org.id,
        "Site",
        "Pages",
    )
    assert (row.status, row.phase, row.service_id) == (
        ProjectStatus.ACTIVE,
        ProjectPhase.KICKOFF,
        service.id,
    )


async def test_a_project_is_created_in_the_phase_asked_for(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "createProject",
        {"engagementId": c.engagement.gid, "name": "Shop", "phase": "TESTING"},
        token=c.staff.token,
        select=PROJECT,
    )
    project_id = parse_global_id(payload["project"]["id"], "Project")
    assert project_id is not None
    row = await stored(owner_engine, Project, project_id)
    assert row.phase is ProjectPhase.TESTING


async def test_creating_a_project_in_a_closed_engagement_is_an_invalid_transition(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    closed = await world.engagement(c.org, c.client, EngagementStatus.CLOSED, closed_at=BASE_TIME)
    payload = await mutate(
        gql,
        "createProject",
        {"engagementId": closed.gid, "name": "Late"},
        token=c.staff.token,
        select=PROJECT,
    )
    assert (codes(payload), error_fields(payload)) == (
        ["INVALID_TRANSITION"],
        [["input", "engagementId"]],
    )
    assert await count_where(owner_engine, Project, Project.engagement_id == closed.id) == 0


async def test_creating_a_project_with_another_organizations_service_is_not_found(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    foreign = await world.service(await world.organization())
    payload = await mutate(
        gql,
        "createProject",
        {"engagementId": c.engagement.gid, "name": "Site", "serviceId": foreign.gid},
        token=c.staff.token,
        select=PROJECT,
    )
    assert (codes(payload), error_fields(payload)) == (["NOT_FOUND"], [["input", "serviceId"]])
    assert await count_where(owner_engine, Project, Project.engagement_id == c.engagement.id) == 0


async def test_a_client_cannot_create_a_project(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    payload = await mutate(
        gql,
        "createProject",
        {"engagementId": c.engagement.gid, "name": "Mine"},
        token=c.client.token,
        select=PROJECT,
    )
    assert codes(payload) == ["FORBIDDEN"]
    assert await count_where(owner_engine, Project, Project.engagement_id == c.engagement.id) == 0


async def test_updating_a_project_writes_the_given_fields_only(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, name="Site", description="Pages")
    before = await stored(owner_engine, Project, project.id)
    await mutate(
        gql,
        "updateProject",
        {"id": project.gid, "description": None},
        token=c.staff.token,
        select=PROJECT,
    )
    after = await stored(owner_engine, Project, project.id)
    assert (after.name, after.description) == ("Site", None)
    assert after.updated_at > before.updated_at


async def test_updating_a_project_to_its_values_changes_nothing(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, name="Site", description="Pages")
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "updateProject",
        {"id": project.gid, "name": "Site", "description": "Pages"},
        token=c.staff.token,
        select=PROJECT,
    )
    assert payload["errors"] == []
    assert await stored(owner_engine, Project, project.id) == before


async def test_a_null_project_name_is_invalid(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, name="Site")
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "updateProject",
        {"id": project.gid, "name": None},
        token=c.staff.token,
        select=PROJECT,
    )
    assert (codes(payload), error_fields(payload)) == (["INVALID"], [["input", "name"]])
    assert await stored(owner_engine, Project, project.id) == before


S = ProjectStatus
STATUS_MOVES = [
    (S.ACTIVE, S.PAUSED),
    (S.PAUSED, S.ACTIVE),
    (S.ACTIVE, S.COMPLETED),
    (S.PAUSED, S.COMPLETED),
    (S.ACTIVE, S.CANCELLED),
    (S.PAUSED, S.CANCELLED),
    (S.COMPLETED, S.ACTIVE),
    (S.CANCELLED, S.ACTIVE),
]
REFUSED_MOVES = [
    (S.COMPLETED, S.PAUSED),
    (S.COMPLETED, S.CANCELLED),
    (S.CANCELLED, S.PAUSED),
    (S.CANCELLED, S.COMPLETED),
]


def _completed_at(status: ProjectStatus) -> object:
    return BASE_TIME if status is S.COMPLETED else None


@pytest.mark.parametrize(("current", "target"), STATUS_MOVES)
async def test_project_status_moves_and_completed_at(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    current: ProjectStatus,
    target: ProjectStatus,
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, status=current, completed_at=_completed_at(current))
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "setProjectStatus",
        {"id": project.gid, "status": target.name},
        token=c.staff.token,
        select=PROJECT,
    )
    assert payload["project"]["status"] == target.name
    after = await stored(owner_engine, Project, project.id)
    assert after.status is target
    assert (after.completed_at is not None) is (target is S.COMPLETED)
    assert after.updated_at > before.updated_at


@pytest.mark.parametrize(("current", "target"), REFUSED_MOVES)
async def test_project_status_moves_outside_the_lifecycle_are_invalid_transitions(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    current: ProjectStatus,
    target: ProjectStatus,
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, status=current, completed_at=_completed_at(current))
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "setProjectStatus",
        {"id": project.gid, "status": target.name},
        token=c.staff.token,
        select=PROJECT,
    )
    assert codes(payload) == ["INVALID_TRANSITION"]
    assert await stored(owner_engine, Project, project.id) == before


@pytest.mark.parametrize("status", list(ProjectStatus))
async def test_setting_a_projects_current_status_is_a_no_op(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, status: ProjectStatus
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, status=status, completed_at=_completed_at(status))
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "setProjectStatus",
        {"id": project.gid, "status": status.name},
        token=c.staff.token,
        select=PROJECT,
    )
    assert payload["errors"] == []
    assert await stored(owner_engine, Project, project.id) == before


@pytest.mark.parametrize(
    ("status", "current", "target"),
    [
        (S.ACTIVE, ProjectPhase.KICKOFF, ProjectPhase.HANDOFF),
        (S.PAUSED, ProjectPhase.DEPLOYMENT, ProjectPhase.SETUP),
    ],
)
async def test_the_phase_moves_forward_or_back_while_active_or_paused(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    status: ProjectStatus,
    current: ProjectPhase,
    target: ProjectPhase,
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, current, status)
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "setProjectPhase",
        {"id": project.gid, "phase": target.name},
        token=c.staff.token,
        select=PROJECT,
    )
    assert payload["project"]["phase"] == target.name
    after = await stored(owner_engine, Project, project.id)
    assert after.phase is target
    assert after.updated_at > before.updated_at


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
async def test_the_phase_of_a_finished_project_is_an_invalid_transition(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine, status: ProjectStatus
) -> None:
    c = await cast(world)
    project = await world.project(
        c.engagement, ProjectPhase.BUILD, status, completed_at=_completed_at(status)
    )
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "setProjectPhase",
        {"id": project.gid, "phase": "TESTING"},
        token=c.staff.token,
        select=PROJECT,
    )
    assert (codes(payload), error_fields(payload)) == (["INVALID_TRANSITION"], [["input", "phase"]])
    assert await stored(owner_engine, Project, project.id) == before


async def test_setting_the_current_phase_is_a_no_op(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, ProjectPhase.BUILD)
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(
        gql,
        "setProjectPhase",
        {"id": project.gid, "phase": "BUILD"},
        token=c.staff.token,
        select=PROJECT,
    )
    assert payload["errors"] == []
    assert await stored(owner_engine, Project, project.id) == before


async def test_deleting_a_project_is_a_soft_delete(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement)
    payload = await mutate(
        gql, "deleteProject", {"id": project.gid}, token=c.staff.token, select="deletedId"
    )
    assert (payload["deletedId"], payload["errors"]) == (project.gid, [])
    row = await stored(owner_engine, Project, project.id)
    assert row.deleted_at is not None
    assert row.updated_at == row.deleted_at


async def test_a_deleted_project_is_gone_from_reads(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement)
    await mutate(gql, "deleteProject", {"id": project.gid}, token=c.staff.token, select="deletedId")
    data = await gql.data(
        "query Q($id: ID!, $e: ID!) { node(id: $id) { id } "
        "engagement(id: $e) { projects { totalCount edges { node { id } } } } }",
        {"id": project.gid, "e": c.engagement.gid},
        token=c.staff.token,
    )
    assert data == {"node": None, "engagement": {"projects": {"totalCount": 0, "edges": []}}}


@pytest.mark.parametrize(
    ("name", "input"),
    [
        ("updateProject", {"name": "Again"}),
        ("setProjectStatus", {"status": "PAUSED"}),
        ("setProjectPhase", {"phase": "BUILD"}),
        ("deleteProject", {}),
    ],
)
async def test_a_deleted_project_cannot_be_changed(
    world: World,
    gql: GraphQLClient,
    owner_engine: AsyncEngine,
    name: str,
    input: dict[str, str],
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement, deleted_at=BASE_TIME)
    before = await stored(owner_engine, Project, project.id)
    payload = await mutate(gql, name, {"id": project.gid, **input}, token=c.staff.token)
    assert codes(payload) == ["NOT_FOUND"]
    assert await stored(owner_engine, Project, project.id) == before


async def test_a_client_cannot_delete_a_project(
    world: World, gql: GraphQLClient, owner_engine: AsyncEngine
) -> None:
    c = await cast(world)
    project = await world.project(c.engagement)
    payload = await mutate(
        gql, "deleteProject", {"id": project.gid}, token=c.client.token, select="deletedId"
    )
    assert codes(payload) == ["FORBIDDEN"]
    row = await row_of(owner_engine, Project, project.id)
    assert row is not None
    assert row.deleted_at is None

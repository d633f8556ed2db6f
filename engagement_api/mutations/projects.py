"""Project mutations: create, update, set status, set phase, soft delete."""

from typing import Any

import strawberry
from pydantic import Field

from engagement_api.context import RequestContext
from engagement_api.db import visibility, writes
from engagement_api.db.enums import ProjectPhase
from engagement_api.db.models import Project
from engagement_api.loaders import ServiceByIdLoader
from engagement_api.mutations.common import (
    load_visible,
    lock_engagement_taking_work,
    lock_visible,
    mutate,
    one,
    status_values,
    update_changed,
    write_values,
)
from engagement_api.mutations.fields import DeleteInput, mutation_field
from engagement_api.mutations.lifecycles import PHASE_CHANGEABLE, PROJECT
from engagement_api.mutations.payloads import DeletePayload, UserError, errors_field
from engagement_api.mutations.refusals import INPUT, Path, invalid_transition
from engagement_api.mutations.validation import InputModel
from engagement_api.mutations.validation.fields import (
    Description,
    EngagementId,
    Name,
    ProjectId,
    ServiceId,
)
from engagement_api.schema.enums import ProjectStatus
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.permissions import IsStaff
from engagement_api.schema.types.project import Project as ProjectType


@strawberry.input
class CreateProjectInput:
    engagement_id: strawberry.ID
    name: str
    description: str | None = strawberry.UNSET
    phase: ProjectPhase | None = strawberry.UNSET
    service_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    service_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class SetProjectStatusInput:
    id: strawberry.ID
    status: ProjectStatus


@strawberry.input
class SetProjectPhaseInput:
    id: strawberry.ID
    phase: ProjectPhase


class CreateProject(InputModel):
    engagement_id: EngagementId
    name: Name
    description: Description | None = None
    phase: ProjectPhase | None = None
    service_id: ServiceId | None = None


class UpdateProject(InputModel):
    id: ProjectId
    name: Name = Field(default=None)  # type: ignore[assignment] # absent: unchanged; never null
    description: Description | None = None
    service_id: ServiceId | None = None


class SetProjectStatus(InputModel):
    id: ProjectId
    status: ProjectStatus


class SetProjectPhase(InputModel):
    id: ProjectId
    phase: ProjectPhase


class DeleteProject(InputModel):
    id: ProjectId


@strawberry.type
class ProjectPayload:
    project: ProjectType | None = None
    errors: list[UserError] = errors_field()


@strawberry.type
class ProjectMutations:
    @mutation_field(ProjectPayload, IsStaff, model=CreateProject)
    async def create_project(
        self, info: strawberry.Info, input: CreateProjectInput
    ) -> ProjectPayload:
        return await create_project(info, input)

    @mutation_field(ProjectPayload, IsStaff, model=UpdateProject)
    async def update_project(
        self, info: strawberry.Info, input: UpdateProjectInput
    ) -> ProjectPayload:
        return await update_project(info, input)

    @mutation_field(ProjectPayload, IsStaff, model=SetProjectStatus)
    async def set_project_status(
        self, info: strawberry.Info, input: SetProjectStatusInput
    ) -> ProjectPayload:
        return await set_project_status(info, input)

    @mutation_field(ProjectPayload, IsStaff, model=SetProjectPhase)
    async def set_project_phase(
        self, info: strawberry.Info, input: SetProjectPhaseInput
    ) -> ProjectPayload:
        return await set_project_phase(info, input)

    @mutation_field(
        DeletePayload, IsStaff, "A soft delete: the project leaves every read.", model=DeleteProject
    )
    async def delete_project(self, info: strawberry.Info, input: DeleteInput) -> DeletePayload:
        return await delete_project(info, input)


Info = strawberry.Info[Any, Any]
SERVICE_FIELD: Path = (*INPUT, "serviceId")


def _payload(row: Any) -> ProjectPayload:
    return ProjectPayload(project=ProjectType.from_row(row))


async def _lock(context: RequestContext, data: Any) -> Any:
    """The project, locked; a deleted one is gone (`NOT_FOUND`) like any invisible row."""
    return await lock_visible(context, Project, visibility.projects, data.id, type_name="Project")


async def _check_service(context: RequestContext, service_id: Any) -> None:
    if service_id is not None:
        await load_visible(
            context, ServiceByIdLoader, service_id, type_name="Service", field=SERVICE_FIELD
        )


async def create_project(info: Info, input: CreateProjectInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, CreateProject, input, _create)


async def _create(context: RequestContext, data: CreateProject) -> ProjectPayload:
    engagement = await lock_engagement_taking_work(context, data.engagement_id, "projects")
    await _check_service(context, data.service_id)
    row = await one(
        context,
        writes.create(
            Project,
            org_id=engagement.org_id,
            engagement_id=engagement.id,
            name=data.name,
            description=data.description,
            phase=data.phase or ProjectPhase.KICKOFF,
            service_id=data.service_id,
        ),
    )
    return _payload(row)


async def update_project(info: Info, input: UpdateProjectInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, UpdateProject, input, _update)


async def _update(context: RequestContext, data: UpdateProject) -> ProjectPayload:
    row = await _lock(context, data)
    values = {name: getattr(data, name) for name in ("name", "description", "service_id")}
    values = {name: value for name, value in values.items() if data.given(name)}
    if values.get("service_id") is not None and values["service_id"] != row.service_id:
        await _check_service(context, values["service_id"])
    return _payload(await update_changed(context, Project, row, values))


async def set_project_status(info: Info, input: SetProjectStatusInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, SetProjectStatus, input, _set_status)


async def _set_status(context: RequestContext, data: SetProjectStatus) -> ProjectPayload:
    row = await _lock(context, data)
    values = status_values(PROJECT, row.status, data.status)
    return _payload(await write_values(context, Project, row, values))


async def set_project_phase(info: Info, input: SetProjectPhaseInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, SetProjectPhase, input, _set_phase)


async def _set_phase(context: RequestContext, data: SetProjectPhase) -> ProjectPayload:
    row = await _lock(context, data)
    if row.status not in PHASE_CHANGEABLE:
        raise invalid_transition(
            f"The phase of a {row.status.name} project cannot change.", (*INPUT, "phase")
        )
    return _payload(await update_changed(context, Project, row, {"phase": data.phase}))


async def delete_project(info: Info, input: DeleteInput) -> DeletePayload:
    return await mutate(info, DeletePayload, DeleteProject, input, _delete)


async def _delete(context: RequestContext, data: DeleteProject) -> DeletePayload:
    """A soft delete: the project leaves every read and cannot be changed any more."""
    row = await _lock(context, data)
    await context.db.execute(*writes.soft_delete(Project, row.id))
    return DeletePayload(deleted_id=strawberry.ID(to_global_id("Project", row.id)))

"""Project mutations: create, update, set status, set phase, soft delete."""

from typing import Any

import strawberry

from engagement_api.context import RequestContext
from engagement_api.db import visibility, writes
from engagement_api.db.enums import ProjectPhase
from engagement_api.db.models import Project
from engagement_api.lifecycles import PHASE_CHANGEABLE, PROJECT
from engagement_api.refusals import INPUT, Path, invalid_transition
from engagement_api.resolvers.loaders import ServiceByIdLoader
from engagement_api.resolvers.mutations.common import (
    load_visible,
    lock_engagement_taking_work,
    lock_visible,
    mutate,
    one,
    status_values,
    update_changed,
    write_values,
)
from engagement_api.schema import inputs
from engagement_api.schema.ids import to_global_id
from engagement_api.schema.payloads import DeletePayload, ProjectPayload
from engagement_api.schema.types.project import Project as ProjectType
from engagement_api.validation import models

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


async def create_project(info: Info, input: inputs.CreateProjectInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, models.CreateProject, input, _create)


async def _create(context: RequestContext, data: models.CreateProject) -> ProjectPayload:
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


async def update_project(info: Info, input: inputs.UpdateProjectInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, models.UpdateProject, input, _update)


async def _update(context: RequestContext, data: models.UpdateProject) -> ProjectPayload:
    row = await _lock(context, data)
    values = {name: getattr(data, name) for name in ("name", "description", "service_id")}
    values = {name: value for name, value in values.items() if data.given(name)}
    if values.get("service_id") is not None and values["service_id"] != row.service_id:
        await _check_service(context, values["service_id"])
    return _payload(await update_changed(context, Project, row, values))


async def set_project_status(info: Info, input: inputs.SetProjectStatusInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, models.SetProjectStatus, input, _set_status)


async def _set_status(context: RequestContext, data: models.SetProjectStatus) -> ProjectPayload:
    row = await _lock(context, data)
    values = status_values(PROJECT, row.status, data.status)
    return _payload(await write_values(context, Project, row, values))


async def set_project_phase(info: Info, input: inputs.SetProjectPhaseInput) -> ProjectPayload:
    return await mutate(info, ProjectPayload, models.SetProjectPhase, input, _set_phase)


async def _set_phase(context: RequestContext, data: models.SetProjectPhase) -> ProjectPayload:
    row = await _lock(context, data)
    if row.status not in PHASE_CHANGEABLE:
        raise invalid_transition(
            f"The phase of a {row.status.name} project cannot change.", (*INPUT, "phase")
        )
    return _payload(await update_changed(context, Project, row, {"phase": data.phase}))


async def delete_project(info: Info, input: inputs.DeleteInput) -> DeletePayload:
    return await mutate(info, DeletePayload, models.DeleteProject, input, _delete)


async def _delete(context: RequestContext, data: models.DeleteProject) -> DeletePayload:
    """A soft delete: the project leaves every read and cannot be changed any more."""
    row = await _lock(context, data)
    await context.db.execute(writes.soft_delete(Project, row.id))
    return DeletePayload(deleted_id=strawberry.ID(to_global_id("Project", row.id)))

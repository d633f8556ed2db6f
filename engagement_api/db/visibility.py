"""What each viewer may see (domain rules §2), as SQL conditions: one function per table.

Every read of a tenant table goes through these, so `org_id` and the CLIENT rules are
never forgotten; row-level security (migration 0004) backs them up in PostgreSQL.
"""

from sqlalchemy import ColumnElement, and_, exists, select

from engagement_api.db.enums import ProposalStatus, Role
from engagement_api.db.models import (
    Conversation,
    Engagement,
    Message,
    Order,
    Organization,
    Project,
    Proposal,
    Service,
    User,
)
from engagement_api.db.pagination import SortableColumn
from engagement_api.db.scope import Scope


def _own_engagement(scope: Scope, engagement_id: SortableColumn) -> ColumnElement[bool]:
    return exists(
        select(Engagement.id).where(
            Engagement.id == engagement_id, Engagement.client_id == scope.user_id
        )
    )


def organizations(scope: Scope) -> ColumnElement[bool]:
    return Organization.id == scope.org_id


def users(scope: Scope) -> ColumnElement[bool]:
    """A CLIENT sees itself and the organization's team, never other clients."""
    same_org = User.org_id == scope.org_id
    if scope.is_client:
        return and_(same_org, (User.role != Role.CLIENT) | (User.id == scope.user_id))
    return same_org


def services(scope: Scope) -> ColumnElement[bool]:
    return Service.org_id == scope.org_id


def engagements(scope: Scope) -> ColumnElement[bool]:
    same_org = Engagement.org_id == scope.org_id
    return and_(same_org, Engagement.client_id == scope.user_id) if scope.is_client else same_org


def projects(scope: Scope) -> ColumnElement[bool]:
    live = and_(Project.org_id == scope.org_id, Project.deleted_at.is_(None))
    return and_(live, _own_engagement(scope, Project.engagement_id)) if scope.is_client else live


def conversations(scope: Scope) -> ColumnElement[bool]:
    same_org = Conversation.org_id == scope.org_id
    if scope.is_client:
        return and_(same_org, _own_engagement(scope, Conversation.engagement_id))
    return same_org


def messages(scope: Scope) -> ColumnElement[bool]:
    live = and_(Message.org_id == scope.org_id, Message.deleted_at.is_(None))
    if not scope.is_client:
        return live
    own_conversation = exists(
        select(Conversation.id).where(
            Conversation.id == Message.conversation_id,
            _own_engagement(scope, Conversation.engagement_id),
        )
    )
    return and_(live, Message.is_internal.is_(False), own_conversation)


def orders(scope: Scope) -> ColumnElement[bool]:
    same_org = Order.org_id == scope.org_id
    return and_(same_org, Order.client_id == scope.user_id) if scope.is_client else same_org


def proposals(scope: Scope) -> ColumnElement[bool]:
    same_org = Proposal.org_id == scope.org_id
    if scope.is_client:
        return and_(
            same_org, Proposal.client_id == scope.user_id, Proposal.status != ProposalStatus.DRAFT
        )
    return same_org

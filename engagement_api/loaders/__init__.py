"""DataLoaders, named by what they load and by which key; all on `base.Loader`."""

from engagement_api.loaders.base import ByIdLoader
from engagement_api.loaders.conversations import (
    ConversationByIdLoader,
    ConversationsByEngagementIdLoader,
    FeedPositionByConversationIdLoader,
)
from engagement_api.loaders.engagements import EngagementByIdLoader, EngagementsLoader
from engagement_api.loaders.messages import (
    MessageByIdLoader,
    MessagesByConversationIdLoader,
)
from engagement_api.loaders.orders import OrderByIdLoader, OrdersByEngagementIdLoader
from engagement_api.loaders.organizations import OrganizationByIdLoader
from engagement_api.loaders.projects import (
    ProjectByIdLoader,
    ProjectsByEngagementIdLoader,
)
from engagement_api.loaders.proposals import ProposalByIdLoader, ProposalsLoader
from engagement_api.loaders.services import (
    ServiceByIdLoader,
    ServicesByOrganizationIdLoader,
)
from engagement_api.loaders.users import UserByIdLoader

BY_ID: dict[str, type[ByIdLoader]] = {
    "Conversation": ConversationByIdLoader,
    "Engagement": EngagementByIdLoader,
    "Message": MessageByIdLoader,
    "Order": OrderByIdLoader,
    "Organization": OrganizationByIdLoader,
    "Project": ProjectByIdLoader,
    "Proposal": ProposalByIdLoader,
    "Service": ServiceByIdLoader,
    "User": UserByIdLoader,
}
"""The loader of each node type's rows by id, as the viewer may see them."""

__all__ = [
    "BY_ID",
    "ConversationByIdLoader",
    "ConversationsByEngagementIdLoader",
    "EngagementByIdLoader",
    "EngagementsLoader",
    "FeedPositionByConversationIdLoader",
    "MessageByIdLoader",
    "MessagesByConversationIdLoader",
    "OrderByIdLoader",
    "OrdersByEngagementIdLoader",
    "OrganizationByIdLoader",
    "ProjectByIdLoader",
    "ProjectsByEngagementIdLoader",
    "ProposalByIdLoader",
    "ProposalsLoader",
    "ServiceByIdLoader",
    "ServicesByOrganizationIdLoader",
    "UserByIdLoader",
]

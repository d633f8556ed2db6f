"""DataLoaders, named by what they load and by which key; all on `base.Loader`."""

from engagement_api.resolvers.loaders.conversations import (
    ConversationByIdLoader,
    ConversationsByEngagementIdLoader,
)
from engagement_api.resolvers.loaders.engagements import EngagementByIdLoader, EngagementsLoader
from engagement_api.resolvers.loaders.messages import (
    MessageByIdLoader,
    MessagesByConversationIdLoader,
)
from engagement_api.resolvers.loaders.orders import OrderByIdLoader, OrdersByEngagementIdLoader
from engagement_api.resolvers.loaders.organizations import OrganizationByIdLoader
from engagement_api.resolvers.loaders.projects import (
    ProjectByIdLoader,
    ProjectsByEngagementIdLoader,
)
from engagement_api.resolvers.loaders.proposals import ProposalByIdLoader, ProposalsLoader
from engagement_api.resolvers.loaders.services import (
    ServiceByIdLoader,
    ServicesByOrganizationIdLoader,
)
from engagement_api.resolvers.loaders.users import UserByIdLoader

__all__ = [
    "ConversationByIdLoader",
    "ConversationsByEngagementIdLoader",
    "EngagementByIdLoader",
    "EngagementsLoader",
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

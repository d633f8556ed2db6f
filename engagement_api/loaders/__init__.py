"""DataLoaders, named by what they load and by which key; all on `base.Loader`."""

from engagement_api.loaders.conversations import (
    ConversationByIdLoader,
    ConversationsByEngagementIdLoader,
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

"""The root Mutation: the union of each entity's mutation fields, in the order the SDL lists
them.

An entity's module in `mutations/` declares its inputs, their validation models,
its payload, its root fields and their logic; this module only combines them.
"""

from strawberry.tools import merge_types

from engagement_api.mutations.conversations import ConversationMutations
from engagement_api.mutations.engagements import EngagementMutations
from engagement_api.mutations.messages import MessageMutations
from engagement_api.mutations.projects import ProjectMutations
from engagement_api.mutations.proposals import ProposalMutations

Mutation = merge_types(
    "Mutation",
    (
        EngagementMutations,
        ProjectMutations,
        ConversationMutations,
        MessageMutations,
        ProposalMutations,
    ),
)

from engagement_api.db import visibility
from engagement_api.db.models import Proposal
from engagement_api.db.queries import PROPOSALS
from engagement_api.loaders.base import ByIdLoader, PageLoader


class ProposalByIdLoader(ByIdLoader):
    model = Proposal
    visible = staticmethod(visibility.proposals)


class ProposalsLoader(PageLoader):
    """Pages of the proposals the viewer may see (root connection)."""

    spec = PROPOSALS

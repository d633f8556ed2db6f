from engagement_api.db import visibility
from engagement_api.db.models import Order
from engagement_api.db.queries import ORDERS_OF_ENGAGEMENT
from engagement_api.loaders.base import ByIdLoader, PageLoader


class OrderByIdLoader(ByIdLoader):
    model = Order
    visible = staticmethod(visibility.orders)


class OrdersByEngagementIdLoader(PageLoader):
    spec = ORDERS_OF_ENGAGEMENT

"""The domain, as Peewee models. Bind with models.base.bind_database(url) before use."""
from .audit import ExportLog, History, Setting
from .base import bind_database, db
from .calendars import CalendarDay, WorkCalendar
from .choices import ChoiceList, ChoiceValue
from .complaints import Callback, Complaint, ComplaintCounter, Rectification, SlaPolicy
from .custom_fields import ComplaintFieldValue, CustomerFieldValue, CustomField
from .customers import Customer
from .feedback import AnonymousFeedback
from .org import Branch, Staff, User, UserBranch
from .outbox import ChannelEndpoint, DeliveryAttempt, Notification, NotifyEvent, OutboxMessage
from .recognition import Award, RewardPenalty
from .surveys import Answer, Choice, Invitation, OpenLink, Question, Response, Survey

# In dependency order: create_tables() follows it, drop goes backwards.
ALL_MODELS = [
    Branch, Staff, User, UserBranch, WorkCalendar, CalendarDay, ChoiceList, ChoiceValue, CustomField, Customer,
    ComplaintCounter, SlaPolicy, Complaint, CustomerFieldValue, ComplaintFieldValue, Rectification, Callback,
    Survey, Question, Choice, OpenLink, Invitation, Response, Answer, AnonymousFeedback,
    Award, RewardPenalty, History, ExportLog, Setting,
    NotifyEvent, ChannelEndpoint, OutboxMessage, DeliveryAttempt, Notification,
]


def create_tables():
    """Create every missing table and index (safe to run on an existing database), the
    search index with the triggers that keep it in sync (models/search.py), and the product's
    choice lists a new database does not have yet (models.choices)."""
    from .choices import seed_product_lists
    from .search import create_search_schema
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)
        create_search_schema()
        seed_product_lists()


__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS", "bind_database", "create_tables", "db"]

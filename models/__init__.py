"""The domain, as Peewee models. Bind with models.base.bind_database(url) before use."""
from .audit import ExportLog, History, Setting
from .base import bind_database, db
from .complaints import Callback, Complaint, ComplaintCounter, Rectification, SlaPolicy
from .customers import Customer
from .org import Branch, Staff, User, UserBranch
from .recognition import Award, RewardPenalty
from .surveys import Answer, Choice, Invitation, OpenLink, Question, Response, Survey

# In dependency order: create_tables() follows it, drop goes backwards.
ALL_MODELS = [
    Branch, Staff, User, UserBranch, Customer, ComplaintCounter, SlaPolicy, Complaint, Rectification, Callback,
    Survey, Question, Choice, OpenLink, Invitation, Response, Answer,
    Award, RewardPenalty, History, ExportLog, Setting,
]


def create_tables():
    """Create every missing table and index (safe to run on an existing database)."""
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)


__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS", "bind_database", "create_tables", "db"]

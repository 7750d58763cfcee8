"""Branch scope (数据范围): which branches' rows an account may see, change and export.

A branch (分公司) keeps its own customers and complaints; headquarters' service department
supervises every branch (服务、监督两条线, DOMAIN.md). So:

* **Membership.** An account belongs to the branch of its staff record (User.staff →
  Staff.branch) and to every branch linked to it directly (UserBranch: a manager in charge
  of several branches). An account may belong to no branch at all.
* **Scope by role** (ROLE_SCOPE): staff (客服专员) and managers (分公司经理) see their own
  branches only; the service director (服务总监) and the administrator see every branch.
  A staff or manager account that belongs to no branch sees no branch data at all.
* **How a row reaches its branch** (RULES, one entry per model): a complaint by its branch, a
  callback through its customer, an answer through its response, an award through its staff
  member, and so on. Office-wide rows (surveys and their questions, SLA policies, settings)
  are SHARED: whoever may open their page sees them.
* **Out of scope is "does not exist"**: an admin URL with the id of a row out of scope answers
  404, exactly like an id that was never used, so it reveals nothing (never 403).
* **Figures**: the scoring pages count the rows in scope; the branch ranking shows every
  branch's rank and scores, but counts and links only for the account's own branches
  (ranking_for).

How a page or a job applies the scope (a new view must do one of these):

    from models.scope import scoped, get_in_scope, branch_ids
    rows = scoped(Complaint.select().where(...), current_user)      # any select: adds the WHERE
    rows = scoped(query, user, Customer)                          # the query's rows are Customers
    complaint = get_in_scope(Complaint, request.args.get("id"), user)   # row or None (404)
    ids = branch_ids(user)      # None: every branch; else a frozenset of branch ids (maybe empty)
    reports.csat(start, end, branch=None if ids is None else sorted(ids))   # figures take a list
    in_scope(row, user)         # may `user` see this one row (e.g. who to notify about it)
    members_of(branch_ids)      # the accounts that belong to these branches

In admin views: `admin.base.scope_or_404(Model, id)` (the row or 404) and `admin.base._user()`.
Customer phone and e-mail on any new page: models.privacy (contact_shown_ids, mask).

Admin model views (admin/base.py DomainModelView) apply it to every list, count, detail,
edit, delete, ajax edit, select2 lookup, foreign-key choice, filter option, list action and
export without any code in the view; a view over a model without a rule here fails at
start-up. A new model is declared with `declare(Model, rule)` — e.g.
`declare(Notification, Via("complaint"))`, `declare(Outbox, Own("branch"))`, `declare(Tag, Shared())`
— next to the model or as an entry in RULES; `tests/test_scope.py` checks that every model
in models.ALL_MODELS has one.
Background jobs and CLI commands run as SYSTEM (every branch) unless they act for a user.
"""
from peewee import SQL

from .org import ROLE_RANK, Branch, Staff, User, UserBranch

# Which branches a role sees: "own" (the account's branches) or "all".
ROLE_SCOPE = {"staff": "own", "manager": "own", "director": "all", "admin": "all"}


class SystemAccount:
    """The office itself (CLI commands, scheduled jobs, the public survey pages): every branch."""

    id = None
    staff_id = None
    username = "system"
    role = "admin"
    active = True
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def has_role(self, role):
        return True

    def __repr__(self):
        return "SYSTEM"


SYSTEM = SystemAccount()


# ---------------------------------------------------------------- membership and scope

def member_branch_ids(user):
    """The branches an account belongs to: its staff record's branch and its linked branches.
    One query, remembered on the user object for the rest of the request."""
    if user is None or getattr(user, "id", None) is None:
        return frozenset()
    cached = user.__dict__.get("_member_branch_ids") if hasattr(user, "__dict__") else None
    if cached is not None:
        return cached
    own = Staff.select(Staff.branch).where(Staff.id == user.staff_id) if user.staff_id else None
    linked = UserBranch.select(UserBranch.branch).where(UserBranch.user == user.id)
    query = linked if own is None else (own | linked)
    ids = frozenset(branch_id for (branch_id,) in query.tuples())
    user.__dict__["_member_branch_ids"] = ids
    return ids


def sees_all_branches(user):
    """True for the service director, the administrator and SYSTEM."""
    if user is SYSTEM:
        return True
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", False):
        return False
    return ROLE_SCOPE.get(user.role) == "all"


def branch_ids(user):
    """None when `user` sees every branch; else the frozenset of branch ids it sees (empty for
    an anonymous or inactive user, or an account that belongs to no branch)."""
    if sees_all_branches(user):
        return None
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", False):
        return frozenset()
    if user.role not in ROLE_RANK:
        return frozenset()
    return member_branch_ids(user)


def branches_seen(users):
    """{account id: None (every branch, by its role) or the sorted names of the branches it
    belongs to} for a page of accounts, as the account list shows them. Three queries
    whatever the number of accounts."""
    users = [u for u in users if u is not None and u.id is not None]
    result = {u.id: None for u in users if ROLE_SCOPE.get(u.role) == "all"}
    members = [u for u in users if u.id not in result]
    if not members:
        return result
    own = dict(Staff.select(Staff.id, Staff.branch).where(
        Staff.id.in_([u.staff_id for u in members if u.staff_id])).tuples())
    linked = {}
    for user_id, branch_id in UserBranch.select(UserBranch.user, UserBranch.branch).where(
            UserBranch.user.in_([u.id for u in members])).tuples():
        linked.setdefault(user_id, set()).add(branch_id)
    names = dict(Branch.select(Branch.id, Branch.name).tuples())
    for user in members:
        ids = linked.get(user.id, set()) | ({own[user.staff_id]} if user.staff_id in own else set())
        result[user.id] = sorted(names[i] for i in ids if i in names)
    return result


def members_of(branches):
    """Accounts that belong to any of `branches` (ids): through their staff record or a link."""
    branches = list(branches)
    return User.select(User.id).where(
        User.staff.in_(Staff.select(Staff.id).where(Staff.branch.in_(branches)))
        | User.id.in_(UserBranch.select(UserBranch.user).where(UserBranch.branch.in_(branches))))


# ---------------------------------------------------------------- rules: how a row reaches its branch

class Rule:
    """How rows of one model reach their branch."""

    shared = False

    def condition(self, model, branches):
        """A WHERE expression selecting the rows of `model` in `branches` (a collection of ids)."""
        raise NotImplementedError

    def branch_of(self, instance):
        """The branch id of one row (None: no branch)."""
        raise NotImplementedError


class Shared(Rule):
    """Office-wide rows: every account that may open the page sees them."""

    shared = True

    def condition(self, model, branches):
        return None

    def branch_of(self, instance):
        return None


class Own(Rule):
    """The row names its branch itself (a foreign key to Branch, or Branch.id for branches)."""

    def __init__(self, field_name):
        self.field_name = field_name

    def condition(self, model, branches):
        return getattr(model, self.field_name).in_(list(branches))

    def branch_of(self, instance):
        field = instance._meta.fields[self.field_name]
        return instance.__data__.get(field.name) if not field.primary_key else instance.get_id()


class Via(Rule):
    """The row belongs to the branch of the row its foreign key `field_name` points at."""

    def __init__(self, field_name):
        self.field_name = field_name

    def condition(self, model, branches):
        field = getattr(model, self.field_name)
        parent = field.rel_model
        return field.in_(parent.select(parent._meta.primary_key).where(condition(parent, branches)))

    def branch_of(self, instance):
        parent_id = instance.__data__.get(self.field_name)
        if parent_id is None:
            return None
        parent = getattr(type(instance), self.field_name).rel_model
        row = parent.get_or_none(parent._meta.primary_key == parent_id)
        return None if row is None else rule_of(parent).branch_of(row)


class FirstOf(Rule):
    """The first of several rules that gives the row a branch (e.g. an invitation through its
    customer, else through its complaint); in scope when any of them puts it there."""

    def __init__(self, *rules):
        self.rules = rules

    def condition(self, model, branches):
        expression = None
        for rule in self.rules:
            part = rule.condition(model, branches)
            expression = part if expression is None else (expression | part)
        return expression

    def branch_of(self, instance):
        for rule in self.rules:
            found = rule.branch_of(instance)
            if found is not None:
                return found
        return None


class Custom(Rule):
    """A rule written as two functions: condition(model, branches) and branch_of(instance)."""

    def __init__(self, condition_fn, branch_of_fn):
        self._condition, self._branch_of = condition_fn, branch_of_fn

    def condition(self, model, branches):
        return self._condition(model, branches)

    def branch_of(self, instance):
        return self._branch_of(instance)


def _user_condition(model, branches):
    return model.id.in_(members_of(branches))


def _user_branch(instance):
    branches = member_branch_ids(instance)
    return min(branches) if branches else None


def _history_condition(model, branches):
    """A history row is in scope when the row it describes was in one of `branches` when the row
    was written (History.branch_id), or when it describes an office-wide row (a survey, a
    setting): history outlives the rows it describes, so it keeps their branch."""
    shared_types = shared_type_names()
    return model.branch_id.in_(list(branches)) | (model.branch_id.is_null() & model.object_type.in_(shared_types))


def _export_log_condition(model, branches):
    """An export is in scope when the account that made it belongs to one of `branches`
    (exports by the director, the administrator or a CLI job without --user: every branch)."""
    return model.user.in_(members_of(branches))


RULES = {}
_registered = []


def shared_type_names():
    """Names of the office-wide models (History.object_type values every manager may read)."""
    if not _registered:
        _register_rules()
    return sorted(m.__name__ for m, rule in RULES.items() if rule.shared)


def open_choice(field):
    """True for a foreign key whose form choices list every row, not just the ones in scope
    (OPEN_CHOICES): naming another branch as responsible for a complaint is how the complaint
    reaches that branch (its manager then names the responsible staff member). Branch names
    are no secret: the ranking shows them all."""
    return (field.model.__name__, field.name) in OPEN_CHOICES


OPEN_CHOICES = {("Complaint", "responsible_branch")}


def declare(model, rule):
    """Declare how rows of `model` reach their branch (for models defined outside models/)."""
    RULES[model] = rule
    return model


def rule_of(model):
    """The scope rule of `model`; LookupError for a model nobody declared (a view over it
    would show every branch, so the admin refuses to start)."""
    if not _registered:
        _register_rules()
    try:
        return RULES[model]
    except KeyError:
        raise LookupError(f"{model.__name__} has no branch scope rule: declare one in models/scope.py "
                          "(Own, Via, FirstOf, Shared or Custom)") from None


def condition(model, branches):
    """WHERE expression for the rows of `model` in `branches` (ids), None when not restricted."""
    return rule_of(model).condition(model, frozenset(branches))


def branch_of(instance):
    """The branch id a row belongs to (None for office-wide rows)."""
    return rule_of(type(instance)).branch_of(instance)


def _register_rules():
    """The rules of the models in models/ (registered on first use: the models import this module)."""
    from .audit import ExportLog, History, Setting
    from .calendars import CalendarDay, WorkCalendar
    from .choices import ChoiceList, ChoiceValue
    from .complaints import Callback, Complaint, ComplaintCounter, Rectification, SlaPolicy
    from .custom_fields import ComplaintFieldValue, CustomerFieldValue, CustomField
    from .customers import Customer
    from .feedback import AnonymousFeedback
    from .outbox import ChannelEndpoint, DeliveryAttempt, Notification, NotifyEvent, OutboxMessage
    from .recognition import Award, RewardPenalty
    from .surveys import Answer, Choice, Invitation, OpenLink, Question, Response, Survey

    RULES.update({
        Branch: Own("id"),
        Staff: Own("branch"),
        User: Custom(_user_condition, _user_branch),
        UserBranch: Own("branch"),
        Customer: Own("branch"),
        # a complaint belongs to the branch that received it, and is also seen by the branch
        # named responsible for it (责任分公司), which has to rectify it
        Complaint: FirstOf(Own("branch"), Own("responsible_branch")),
        Rectification: Via("complaint"),
        Callback: Via("customer"),
        Award: Via("staff"),
        RewardPenalty: Via("staff"),
        # a link of one branch or one staff member belongs to that branch; a link of the
        # whole office (neither set) is shared like its survey
        OpenLink: Custom(
            lambda model, branches: (model.branch.in_(list(branches))
                                     | (model.branch.is_null() & model.staff.in_(
                                         Staff.select(Staff.id).where(Staff.branch.in_(list(branches)))))
                                     | (model.branch.is_null() & model.staff.is_null())),
            lambda link: link.branch_id or (Via("staff").branch_of(link) if link.staff_id else None)),
        Invitation: FirstOf(Via("customer"), Via("complaint")),
        # a response belongs to the branch it is attributed to, else to its customer's
        Response: FirstOf(Own("branch"), Via("customer")),
        Answer: Via("response"),
        History: Custom(_history_condition, lambda row: row.branch_id),
        ExportLog: Custom(_export_log_condition, lambda row: None),
        # the administrator's own fields: a value belongs to its customer's / complaint's branch
        CustomerFieldValue: Via("customer"), ComplaintFieldValue: Via("complaint"),
        # anonymous feedback (a low score nobody can be called back about) is its branch's
        AnonymousFeedback: Own("branch"),
        # notifications: a message or event about a complaint belongs to the complaint's branches,
        # a survey invitation's to its customer's; a group robot to its branch (an office-wide
        # robot, a report or a test message without either: the director and the administrator)
        NotifyEvent: Via("complaint"),
        OutboxMessage: FirstOf(Via("complaint"), Via("invitation"), Via("endpoint")),
        DeliveryAttempt: Via("message"),
        ChannelEndpoint: Own("branch"),
        # an account's own notifications belong to the account's branches (the list shows only
        # one's own: admin.notifications)
        Notification: Via("user"),
        # office-wide
        Survey: Shared(), Question: Shared(), Choice: Shared(),
        SlaPolicy: Shared(), Setting: Shared(), ComplaintCounter: Shared(),
        WorkCalendar: Shared(), CalendarDay: Shared(), ChoiceList: Shared(), ChoiceValue: Shared(),
        CustomField: Shared(),
    })
    _registered.append(True)


# ---------------------------------------------------------------- applying it

def scoped(query, user, model=None):
    """`query` (a select over `model`, by default the query's own model) restricted to the rows
    `user` may see. Every branch for the director, the administrator and SYSTEM (the query is
    returned unchanged); nothing for an anonymous or inactive user."""
    model = model or query.model
    branches = branch_ids(user)
    if branches is None:
        return query
    rule = rule_of(model)
    if rule.shared:
        return query if (user is not None and getattr(user, "is_authenticated", False)) else query.where(SQL("1 = 0"))
    return query.where(rule.condition(model, branches))


# The largest id a row can have on both databases (PostgreSQL's integer, peewee's AutoField).
MAX_ID = 2 ** 31 - 1


def parse_id(value):
    """A row id from user input (text or number), or None when it cannot be one: not a whole
    number, below 1, or beyond what the database stores (no query, no error)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            return None
        number = int(text)
    return number if 1 <= number <= MAX_ID else None


def get_in_scope(model, row_id, user):
    """The row of `model` with id `row_id` if `user` may see it, else None (also for a
    malformed or impossible id). Views answer 404 for None."""
    number = parse_id(row_id)
    if number is None:
        return None
    return scoped(model.select().where(model._meta.primary_key == number), user, model).first()


def in_scope(instance, user):
    """True when `user` may see the row `instance`."""
    return get_in_scope(type(instance), instance.get_id(), user) is not None


def ids_in_scope(model, ids, user):
    """The subset of `ids` (already parsed) that are rows of `model` in `user`'s scope."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return set()
    found = set()
    for start in range(0, len(ids), 500):  # stay under SQL parameter limits
        chunk = ids[start:start + 500]
        query = model.select(model._meta.primary_key).where(model._meta.primary_key.in_(chunk))
        found |= {row_id for (row_id,) in scoped(query, user, model).tuples()}
    return found


def branch_choices(user):
    """The branches `user` may pick in forms, filters and figure pages, by name."""
    return list(scoped(Branch.select().order_by(Branch.name), user, Branch))


def figure_branches(user, requested=None):
    """The `branch` argument for models.reports figures: the requested branch (an id already
    checked to exist) when it is in scope; else None for every branch (director, admin) or
    the account's branches as a list. Returns (branches, requested_was_refused)."""
    scope = branch_ids(user)
    if requested is not None:
        if scope is None or requested in scope:
            return requested, False
        return (None if scope is None else sorted(scope)), True
    return (None if scope is None else sorted(scope)), False


# Branch-ranking keys shown for branches outside the viewer's scope: rank and scores only.
RANKING_PUBLIC_KEYS = ("rank", "branch_id", "branch", "region", "status", "missing", "score", "sla_score", "sla_rate",
                       "satisfaction_score", "csat", "nps", "complaint_score")


def ranking_for(rows, branches):
    """A branch ranking (models.reports.branch_ranking rows) as seen from `branches` (ids; None:
    every branch, e.g. branch_ids(user)): every branch's rank and scores, but the counts behind
    them (complaints, customers, stages, ratings) only for `branches`; `in_scope` marks those."""
    shown = []
    for row in rows:
        own = branches is None or row["branch_id"] in branches
        shown.append({**row, "in_scope": own} if own else
                     {**{key: (value if key in RANKING_PUBLIC_KEYS else None) for key, value in row.items()},
                      "in_scope": False})
    return shown

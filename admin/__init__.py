"""The admin panel: one Flask-Admin view per model, grouped by the office's areas."""
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

import models as m
from models.i18n import label_of
from models.audit import shown_value
from models.complaints import STAGES
from models.org import ROLES

from .calendars import CalendarDayAdmin, WorkCalendarAdmin
from .choice_lists import ChoiceListAdmin, ChoiceValueAdmin
from .custom_fields import CustomFieldAdmin
from .complaints import CallbackAdmin, CallbacksDueView, ComplaintAdmin, RectificationAdmin
from .customers import CustomerAdmin
from .notifications import ChannelEndpointAdmin, MyNotificationsView, NotificationSettingsView, OutboxAdmin
from .spreadsheets import CustomerImportView, ReportWorkbookView
from .people import AwardAdmin, RewardPenaltyAdmin, StaffAdmin
from .reports import (BranchRankingView, CustomerQuadrantView, ScoringDashboardView, StaffScoreboardView,
                      SurveyAnalyticsView)
from .survey_review import AnonymousFeedbackAdmin, HeldResponseAdmin
from .surveys import AnswerAdmin, InvitationAdmin, OpenLinkAdmin, QuestionAdmin, ResponseAdmin, SurveyAdmin
from .system import BranchAdmin, ExportLogAdmin, HistoryAdmin, SettingsView, SlaPolicyAdmin, UserAdmin
from .workbench import MyWorkView

CUSTOMERS = _l("Customers & complaints")
SURVEYS = _l("Surveys")
PEOPLE = _l("Staff & recognition")
SYSTEM = _l("System")
SCORING = _l("Scoring")

# (view class, model, menu label, category, endpoint)
MODEL_VIEWS = [
    (CustomerAdmin, m.Customer, _l("Customers"), CUSTOMERS, "customer"),
    (ComplaintAdmin, m.Complaint, _l("Complaints"), CUSTOMERS, "complaint"),
    (RectificationAdmin, m.Rectification, _l("Rectification worksheets"), CUSTOMERS, "rectification"),
    (CallbackAdmin, m.Callback, _l("Callbacks"), CUSTOMERS, "callback"),
    (SurveyAdmin, m.Survey, _l("Surveys"), SURVEYS, "survey"),
    (QuestionAdmin, m.Question, _l("Questions"), SURVEYS, "question"),
    (OpenLinkAdmin, m.OpenLink, _l("Open links"), SURVEYS, "openlink"),
    (InvitationAdmin, m.Invitation, _l("Invitations"), SURVEYS, "invitation"),
    (ResponseAdmin, m.Response, _l("Responses"), SURVEYS, "response"),
    (HeldResponseAdmin, m.Response, _l("Held submissions"), SURVEYS, "held_response"),
    (AnonymousFeedbackAdmin, m.AnonymousFeedback, _l("Anonymous feedback"), SURVEYS, "anonymous_feedback"),
    (AnswerAdmin, m.Answer, _l("Answers"), SURVEYS, "answer"),
    (StaffAdmin, m.Staff, _l("Staff"), PEOPLE, "staff"),
    (AwardAdmin, m.Award, _l("Awards"), PEOPLE, "award"),
    (RewardPenaltyAdmin, m.RewardPenalty, _l("Rewards & penalties"), PEOPLE, "rewardpenalty"),
    (UserAdmin, m.User, _l("Accounts"), SYSTEM, "user"),
    (BranchAdmin, m.Branch, _l("Branches"), SYSTEM, "branch"),
    (SlaPolicyAdmin, m.SlaPolicy, _l("SLA policies"), SYSTEM, "slapolicy"),
    (WorkCalendarAdmin, m.WorkCalendar, _l("Working calendars"), SYSTEM, "workcalendar"),
    (CalendarDayAdmin, m.CalendarDay, _l("Holidays & adjusted days"), SYSTEM, "calendarday"),
    (CustomFieldAdmin, m.CustomField, _l("Custom fields"), SYSTEM, "customfield"),
    (ChoiceListAdmin, m.ChoiceList, _l("Choice lists"), SYSTEM, "choicelist"),
    (ChoiceValueAdmin, m.ChoiceValue, _l("Choice values"), SYSTEM, "choicevalue"),
    (HistoryAdmin, m.History, _l("History"), SYSTEM, "history"),
    (ExportLogAdmin, m.ExportLog, _l("Export log"), SYSTEM, "exportlog"),
    (OutboxAdmin, m.OutboxMessage, _l("Outbox"), SYSTEM, "outbox"),
    (ChannelEndpointAdmin, m.ChannelEndpoint, _l("Group robots"), SYSTEM, "channelendpoint"),
]
# Custom pages (manager): (view class, menu label, category, endpoint, url)
REPORT_VIEWS = [
    (BranchRankingView, _l("Branch ranking"), SCORING, "ranking", "/admin/scoring/ranking"),
    (StaffScoreboardView, _l("Staff scoreboard & service star"), SCORING, "scoreboard", "/admin/scoring/staff"),
    (SurveyAnalyticsView, _l("Survey analytics"), SCORING, "survey_analytics", "/admin/scoring/surveys"),
    (CustomerQuadrantView, _l("Customer quadrants"), SCORING, "quadrants", "/admin/scoring/quadrants"),
]


class ServiceAdmin(Admin):
    """Flask-Admin with the menu in the order of who is reading it: office staff find My work
    first, managers and directors their dashboard (Flask-Admin always puts the index view,
    the dashboard, first)."""

    def menu(self):
        items = super().menu()
        from flask_login import current_user
        if not current_user.is_authenticated or current_user.has_role("manager"):
            return items
        mine = [item for item in items if getattr(item, "_view", None) is not None
                and item._view.endpoint == "my_work"]
        return mine + [item for item in items if item not in mine]


def use_our_flask_admin_catalog(app):
    """Flask-Admin translates its own buttons and messages through its "admin" domain, from
    the catalog shipped in its package. translations.catalog compiles that catalog with our
    corrections on top (translations/<locale>/LC_MESSAGES/admin.mo); Flask-Admin is pointed at
    that folder instead of its own (its domain has no public setting for this: a folder given
    as Admin(translations_path=…) would be overridden by Flask-Admin's own catalog)."""
    from flask_admin import babel as admin_babel
    folder = app.config["BABEL_TRANSLATION_DIRECTORIES"]
    domain = getattr(admin_babel, "domain", None)
    if domain is not None and getattr(domain, "_translation_directories", None) != [folder]:
        domain._translation_directories = [folder]
        domain.cache.clear()


def init_admin(app):
    from hardening import csp_nonce
    use_our_flask_admin_catalog(app)
    admin = ServiceAdmin(
        app,
        name=_l("Service desk"),
        csp_nonce_generator=csp_nonce,
        index_view=ScoringDashboardView(name=_l("Dashboard"), url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/service_base.html", swatch="cerulean", fluid=True),
    )
    admin.add_view(MyWorkView(name=_l("My work"), endpoint="my_work", url="/admin/my-work"))
    for view_class, model, label, category, endpoint in MODEL_VIEWS:
        admin.add_view(view_class(model, name=label, category=category, endpoint=endpoint))
    admin.add_view(CallbacksDueView(name=_l("Callbacks due"), category=CUSTOMERS, endpoint="callbacks_due",
                                    url="/admin/callbacks-due"))
    for view_class, label, category, endpoint, url in REPORT_VIEWS:
        admin.add_view(view_class(name=label, category=category, endpoint=endpoint, url=url))
    admin.add_view(CustomerImportView(name=_l("Import customers"), category=CUSTOMERS, endpoint="customer_import",
                                      url="/admin/customer-import"))
    admin.add_view(SettingsView(name=_l("Settings"), category=SYSTEM, endpoint="setting", url="/admin/setting"))
    admin.add_view(ReportWorkbookView(name=_l("Report workbooks"), category=SCORING, endpoint="report_workbooks",
                                      url="/admin/report-workbooks"))
    admin.add_view(NotificationSettingsView(name=_l("Notification settings"), category=SYSTEM,
                                            endpoint="notification_settings", url="/admin/notification-settings"))
    # reached from the navbar's bell, not from a menu
    admin.add_view(MyNotificationsView(name=_l("My notifications"), endpoint="my_notifications",
                                       url="/admin/my-notifications"))

    @app.context_processor
    def _role_label():
        return {"role_label": lambda code: label_of(ROLES, code),
                "all_branches_label": _all_branches_label,
                "stage_label": lambda code: label_of(STAGES, code),
                "history_value": shown_value,
                "unread_notifications": _unread_notifications}

    return admin


def _unread_notifications():
    """The navbar's count of the logged-in account's unread notifications (one indexed COUNT)."""
    from flask_login import current_user

    from models.outbox import unread_count
    return unread_count(current_user.id) if current_user.is_authenticated else 0


def _all_branches_label():
    """The "no branch chosen" entry of the figure pages' branch picker: every branch for the
    director and the administrator, the account's own branches for everyone else (models.scope)."""
    from flask_babel import gettext
    from flask_login import current_user

    from models.scope import branch_ids
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return gettext("All branches") if branch_ids(user) is None else gettext("My branches")

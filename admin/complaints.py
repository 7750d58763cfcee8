"""Complaints through their stages, rectification worksheets, callbacks and the callbacks-due page.

Views stay thin: every workflow step is a function of models.workflow."""
from datetime import date

from flask import flash, redirect, request, session, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.peewee.filters import BasePeeweeFilter, FilterEqual
from peewee import JOIN
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from flask import abort

from models import Branch, Callback, Complaint, Customer, Rectification, Staff, db
from models.audit import HISTORY_ACTIONS
from models.clock import now
from models.complaints import CALLBACK_CHANNEL_LIST, CHANNEL_LIST, FINAL_STAGE, SATISFACTION, callbacks_due
from models.i18n import label_of
from models import notifications, workflow
from models.ownership import hand_over, handover_candidates
from models.privacy import contact_shown_ids, mask
from models.scope import branch_ids, get_in_scope, in_scope, parse_id, scoped
from models.workflow import WorkflowError

from .base import DomainModelView, RoleBaseView, _user, history_field_label, scope_or_404
from .custom_fields import CustomFieldsMixin
from .customers import COMPLAINT_AJAX, CUSTOMER_AJAX, branch_filter, staff_filter


def _complaint_due(view, context, model, name):
    """Next deadline with time left, red when overdue, amber when due within 2 h."""
    if not model.is_open or model.due_at is None:
        return ""
    left = model.due_at - now()
    seconds = int(left.total_seconds())
    text = f"{model.due_at:%m-%d %H:%M}"
    if seconds < 0:
        minutes = (-seconds + 59) // 60
        return Markup('<span class="overdue">{} ({})</span>').format(
            text, _l("overdue %(h)d h %(m)d min", h=minutes // 60, m=minutes % 60))
    minutes = seconds // 60
    css = "due-soon" if seconds < workflow.DUE_SOON_HOURS * 3600 else ""
    return Markup('<span class="{}">{} ({})</span>').format(
        css, text, _l("%(h)d h %(m)d min left", h=minutes // 60, m=minutes % 60))


def _next_deadline(view, context, model, name):
    """The list cell: which stage is next, its deadline and the time left."""
    following = workflow.TRANSITIONS.get(model.stage)
    if not following:
        return ""
    return Markup('<small class="text-muted">{}</small><br>{}').format(
        workflow.stage_label(following), _complaint_due(view, context, model, name))


def _stage(view, context, model, name):
    """Current stage, with a red badge when the complaint was escalated."""
    label = workflow.stage_label(model.stage)
    if not model.escalation_level:
        return label
    return Markup('{} <span class="badge badge-danger" title="{}">↑{}</span>').format(
        label, _l("Escalation level %(n)d", n=model.escalation_level), model.escalation_level)


class OverdueFilter(BasePeeweeFilter):
    """Open complaints past their next deadline."""

    def __init__(self):
        super().__init__(Complaint.due_at, _l("Overdue"), options=(("1", _l("overdue only")),))

    def apply(self, query, value):
        return query.where(Complaint.id.in_(Complaint.overdue().select(Complaint.id)))

    def operation(self):
        return _l("show")


class DueSoonFilter(BasePeeweeFilter):
    """Open complaints whose next deadline is within the next 2 hours (not yet overdue)."""

    def __init__(self):
        super().__init__(Complaint.due_at, _l("Due within 2 h"), options=(("1", _l("due within 2 h only")),))

    def apply(self, query, value):
        return query.where(Complaint.id.in_(Complaint.due_soon(hours=workflow.DUE_SOON_HOURS).select(Complaint.id)))

    def operation(self):
        return _l("show")


class SlaResultFilter(BasePeeweeFilter):
    """Complaints by how a timed stage was done: "acknowledged:done" (done at all),
    "acknowledged:on_time" (at or before its due time, or without one), "acknowledged:late"
    (after it: an SLA breach); the list behind each figure of the dashboard's SLA table."""

    STATES = (("done", _l("done")), ("on_time", _l("on time")), ("late", _l("late")))

    def __init__(self):
        options = [(f"{stage.code}:{state}", (stage.code, label))
                   for stage in workflow.STAGE_FLOW if stage.due_field for state, label in self.STATES]
        super().__init__(Complaint.stage, _l("SLA result"), options=options)

    def get_options(self, view):
        """Labels in the reader's language, made when the list is shown."""
        return [(code, f"{workflow.stage_label(stage)}: {label}") for code, (stage, label) in self.options]

    def validate(self, value):
        stage, _sep, state = (value or "").partition(":")
        definition = workflow.STAGE_BY_CODE.get(stage)
        return definition is not None and definition.due_field is not None and state in dict(self.STATES)

    def apply(self, query, value):
        stage, _sep, state = value.partition(":")
        definition = workflow.STAGE_BY_CODE[stage]
        done, due = getattr(Complaint, definition.done_field), getattr(Complaint, definition.due_field)
        query = query.where(done.is_null(False))
        if state == "late":
            return query.where(due.is_null(False) & (done > due))
        if state == "on_time":
            return query.where(due.is_null() | (done <= due))
        return query

    def operation(self):
        return _l("show")


def _active_staff():
    """Active staff of the user's branch scope with their branch, sorted by branch then name
    (one query): hand-overs and verifiers stay in scope."""
    return list(scoped(Staff.select(Staff, Branch).join(Branch).where(Staff.active).order_by(Branch.name, Staff.name),
                       _user(), Staff))


def _choice(field, value):
    """The label of a stored choice code of `field` ('' for none)."""
    return label_of(field.choices, value)


def _parse_date(text, message):
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise WorkflowError(str(message)) from None


def _staff_from_form(key, message):
    """The staff member chosen in the form, if in the user's scope."""
    staff = get_in_scope(Staff, request.form.get(key, ""), _user())
    if staff is None:
        raise WorkflowError(str(message))
    return staff


class ComplaintAdmin(CustomFieldsMixin, DomainModelView):
    custom_entity = "complaint"  # the administrator's own fields (System → Custom fields)
    # the number, what it is about, where it stands and how much time is left
    column_list = ["number", "title", "customer", "branch", "severity", "stage", "due_at", "responsible_staff",
                   "assignee", "received_at"]
    column_labels = {"due_at": _l("Next stage, deadline / time left")}
    # the export is the complaint register: every stage's due and done times
    column_export_list = ["number", "title", "customer", "branch", "channel", "category", "severity", "stage",
                          "received_at", "first_responder", "responsible_staff", "responsible_branch", "assignee",
                          "due_at", "acknowledge_due_at", "acknowledged_at", "result_due_at", "resolved_at",
                          "rectify_due_at", "rectified_at", "callback_due_at", "called_back_at", "closed_at",
                          "escalation_level", "compensation", "compensation_amount"]
    column_export_labels = {"due_at": _l("Next deadline")}
    # the search box (models.search) also finds a complaint by its customer's name,
    # organisation and phone; the number may be typed as 2026-500000 or 500000
    column_searchable_list = ["number", "title", "description"]
    search_labels = [_l("Number"), _l("Title"), _l("Description"), _l("Customer"), _l("Organisation"), _l("Phone")]
    column_filters = ["stage", OverdueFilter(), DueSoonFilter(), SlaResultFilter(), "severity", "channel",
                      "category", "received_at",
                      branch_filter(Complaint.branch),
                      staff_filter(Complaint.responsible_staff, _l("Responsible staff")),
                      staff_filter(Complaint.assignee, _l("Owner")),
                      staff_filter(Complaint.first_responder, _l("First responder"))]
    column_sortable_list = ["number", "received_at", "due_at", "stage", "severity", "escalation_level"]
    column_default_sort = ("received_at", True)
    column_formatters = {"due_at": _next_deadline, "stage": _stage,
                         "received_at": lambda v, c, m, n: f"{m.received_at:%m-%d %H:%M}"}
    list_template = "admin/complaints/list.html"
    details_template = "admin/complaints/details.html"
    form_ajax_refs = {"customer": CUSTOMER_AJAX}
    # workflow fields are set by the stage forms on the complaint page, numbering by the database
    form_excluded_columns = ["number", "year", "seq", "created_by", "due_at", "escalation_level", "received_at",
                             "acknowledge_due_at", "result_due_at", "rectify_due_at", "callback_due_at",
                             "acknowledged_at", "resolved_at", "rectified_at", "called_back_at", "closed_at",
                             "apology_note", "director_notified", "result_text", "closing_note",
                             "stage", "sla_hours_kind", "alert_at", "rectifications", "callbacks", "invitations",
                             "source_responses",
                             "rewards_penalties",
                             # the owner is the receiver, changed only by a hand-over on the complaint page
                             "assignee"]
    form_widget_args = {"description": {"rows": 5}}
    form_args = {"first_responder": {"description": _l("Whoever took the call or visit; owns the complaint until "
                                                       "a hand-over is recorded")}}
    staff_fields = ["first_responder", "responsible_staff"]

    def _order_by(self, query, joins, order):
        """Sorting by number sorts by (year, seq): as text, 问字【2026】1000号 would come
        before 问字【2026】101号."""
        expanded = []
        for field, descending in order:
            if field in ("number", Complaint.number):
                expanded += [(Complaint.year, descending), (Complaint.seq, descending)]
            else:
                expanded.append((field, descending))
        return super()._order_by(query, joins, expanded)

    def create_form(self, obj=None):
        """A new complaint starts filled in: the customer when opened from a customer's page
        (?customer=), that customer's branch (else the receiver's), the receiver as first
        responder, the channel when given (?channel=phone)."""
        form = super().create_form(obj)
        if request.method != "GET":
            return form
        me = Staff.get_or_none(Staff.id == current_user.staff_id) if current_user.staff_id else None
        customer = get_in_scope(Customer, request.args.get("customer"), _user())  # None: out of scope too
        if customer is not None:
            form.customer.data = customer
            form.branch.data = customer.branch
        elif me is not None:
            form.branch.data = me.branch
        if me is not None and form.first_responder.data is None:
            form.first_responder.data = me
        if request.args.get("channel") in dict(CHANNEL_LIST.offered()):
            form.channel.data = request.args["channel"]
        return form

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.created_by = current_user.id
            if model.first_responder_id is None and current_user.staff_id:
                model.first_responder = current_user.staff_id

    def after_model_change(self, form, model, is_created):
        """The custom values are stored (CustomFieldsMixin); a complaint recorded with someone
        else as owner: the owner is told (same transaction)."""
        super().after_model_change(form, model, is_created)
        if is_created:
            notifications.complaint_recorded(model, _user())

    def get_save_return_url(self, model, is_created=False):
        """After saving, the complaint's own page; a new complaint is announced by its number
        (instead of Flask-Admin's generic "record created")."""
        if is_created:
            generic = admin_gettext("Record was successfully created.")
            session["_flashes"] = [f for f in session.get("_flashes", []) if f[1] != generic]
            flash(_("Complaint %(number)s recorded. Owner: %(owner)s.", number=model.number,
                    owner=model.assignee.name if model.assignee_id else "—"), "success")
        return url_for(".details_view", id=model.id)

    def update_model(self, form, model):
        """An edit that changes an owner (first responder, assignee, responsible staff or
        branch) is recorded as a hand-over; other fields as changes."""
        before = dict(model.__data__)
        with db.atomic() as txn:
            if not super(DomainModelView, self).update_model(form, model):
                txn.rollback()
                model.__data__.update(before)
                return False
            workflow.record_complaint_changes(model, before, _user())
        return True

    # ------------------------------------------------------------------ list actions
    @action("assign", _l("Assign to a staff member"))
    def action_assign(self, ids):
        return redirect(url_for(".assign_view", ids=",".join(ids), url=request.form.get("url") or None))

    @action("escalate", _l("Escalate"), _l("Escalate the selected complaints?"))
    def action_escalate(self, ids):
        complaints = list(self.get_query().where(Complaint.id.in_([int(i) for i in ids])))
        count = workflow.escalate(complaints, _user(), request.form.get("reason", ""))
        flash(_("%(count)d complaints escalated.", count=count), "success")

    @expose("/assign/", methods=("GET", "POST"))
    def assign_view(self):
        """Hand complaints over (the list's action, or the complaint page's hand-over form).
        Closed complaints keep their owner. Every id must be a complaint in the user's scope."""
        source = request.values.get("ids", "")[:20000]
        ids = [parse_id(i) for i in source.split(",") if i.strip()]
        if None in ids:
            abort(400)
        complaints = list(self.get_query().where(Complaint.id.in_(ids)).order_by(Complaint.id)) if ids else []
        if len(complaints) != len(set(ids)):
            abort(404)  # an id out of the user's scope, or gone
        if not complaints:
            flash(_("Select the complaints to assign first."), "error")
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            single = complaints[0] if len(complaints) == 1 else None
            try:
                staff = _staff_from_form("staff", _l("Choose the staff member to assign the complaints to."))
                if single is not None:
                    count = int(hand_over(single, staff, _user(), request.form.get("reason", "")))
                else:
                    count = workflow.assign(complaints, staff, _user())
            except WorkflowError as exc:
                flash(str(exc), "error")
                if single is not None:
                    return redirect(url_for(".details_view", id=single.id))
            else:
                closed = sum(1 for c in complaints if not c.is_open)
                flash(_("%(count)d complaints assigned to %(staff)s.", count=count, staff=str(staff)), "success")
                if closed and single is None:
                    flash(_("%(count)d closed complaints kept their owner.", count=closed), "info")
                if single is not None:
                    return redirect(url_for(".details_view", id=single.id))
                return redirect(url_for(".index_view"))
        return self.render("admin/complaints/assign.html", complaints=complaints, ids=source,
                           staff_list=_active_staff())

    # ------------------------------------------------------------------ the complaint page
    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs.update(self._page_context(kwargs["model"]))
        return super().render(template, **kwargs)

    def _page_context(self, complaint, stage_form=None):
        """Everything the complaint page shows: the facts, every stage with what was recorded
        for it and by whom, the next stage's form, the hand-over list and the history."""
        worksheet = Rectification.get_or_none(Rectification.complaint == complaint.id)
        timeline = workflow.timeline(complaint.id)
        stage_done_by = {row.new_value: row for row in timeline if row.action == "stage"}
        callbacks = list(Callback.select(Callback, Staff).join(Staff, JOIN.LEFT_OUTER, on=(Callback.staff == Staff.id))
                         .where(Callback.complaint == complaint.id).order_by(Callback.done_at, Callback.id))
        following = workflow.next_stage(complaint)
        customer = complaint.customer
        phone_shown = customer.id in contact_shown_ids(_user(), [customer])  # models.privacy
        return {
            "complaint": complaint,
            "customer": customer,
            "customer_in_scope": in_scope(customer, _user()),
            "customer_phone_shown": phone_shown,
            "customer_phone": customer.phone if phone_shown else mask("phone", customer.phone),
            "next_stage": following,
            "next_action": workflow.stage_action(following) if following else "",
            "progress": workflow.stage_progress(complaint),
            "timeline": timeline,
            "stage_done_by": stage_done_by,
            "history_label": lambda code: label_of(HISTORY_ACTIONS, code),
            "field_label": history_field_label,
            "choice": lambda name, value: _choice(Complaint._meta.fields[name], value),
            "callback_choice": lambda name, value: _choice(Callback._meta.fields[name], value),
            "worksheet": worksheet,
            "worksheet_layout": workflow.WORKSHEET_LAYOUT,
            "worksheet_sections": workflow.WORKSHEET_SECTIONS,
            "worksheet_field": lambda name: Rectification._meta.fields[name],
            "complaint_callbacks": callbacks,
            "stage_form": stage_form if stage_form is not None else {},
            "staff_list": _active_staff(),
            "handover_list": handover_candidates(complaint, _user()),  # staff in the user's scope
            "satisfaction_choices": SATISFACTION,
            "channel_choices": CALLBACK_CHANNEL_LIST.offered(),
            "due_html": _complaint_due(self, None, complaint, "due_at"),
            "custom_values": self.custom_values_shown(complaint),
            "today": now().date(),
        }

    def _stage_deliverable(self, stage):
        form = request.form
        if stage == "acknowledged":
            return {"apology_note": form.get("apology_note"), "director_notified": form.get("director_notified") == "y"}
        if stage == "resolved":
            return {"result_text": form.get("result_text")}
        if stage == "rectified":
            values = {name: form.get(name, "") for name in workflow.WORKSHEET_SECTIONS}
            values["promised_date"] = _parse_date(form.get("promised_date"),
                                                  _l("Enter the promised completion date (YYYY-MM-DD)."))
            return values
        if stage == "called_back":
            return {"satisfaction": form.get("satisfaction"), "outcome": form.get("outcome"),
                    "channel": form.get("channel", "phone")}
        if stage == FINAL_STAGE:
            return {"closing_note": form.get("closing_note"),
                    "verifier": _staff_from_form("verifier", _l("Name the staff member who verified the effect.")).id}
        return {}

    @expose("/stage/", methods=("POST",))
    def stage_view(self):
        complaint = self.get_one(request.args.get("id"))
        stage = request.form.get("stage", "")
        try:
            on_time = workflow.complete_stage(complaint, stage, _user(), **self._stage_deliverable(stage))
        except WorkflowError as exc:
            flash(str(exc), "error")
            complaint = Complaint.get_by_id(complaint.id)  # nothing was saved; show the stored state
            page = super().render(self.details_template, model=complaint, details_columns=self._details_columns,
                                  get_value=self.get_detail_value, return_url=url_for(".index_view"),
                                  **self._page_context(complaint, request.form))
            return page, 422
        if on_time:
            flash(_("%(stage)s recorded for %(number)s.", stage=workflow.stage_label(stage),
                    number=complaint.number), "success")
        else:
            flash(_("%(stage)s recorded for %(number)s, after its deadline: an SLA breach was recorded.",
                    stage=workflow.stage_label(stage), number=complaint.number), "warning")
        return redirect(url_for(".details_view", id=complaint.id))

    @expose("/escalate/", methods=("POST",))
    def escalate_view(self):
        complaint = self.get_one(request.args.get("id"))
        if workflow.escalate([complaint], _user(), request.form.get("reason", "").strip()):
            flash(_("Complaint %(number)s escalated.", number=complaint.number), "success")
        else:
            flash(_("A closed complaint cannot be escalated."), "error")
        return redirect(url_for(".details_view", id=complaint.id))


class RectificationAdmin(DomainModelView):
    column_list = ["complaint", "promised_date", "verifier", "verified_at", "created_at", "print"]
    column_labels = {"print": _l("Print")}
    column_searchable_list = ["problem_description", "cause_analysis"]
    column_filters = ["promised_date", "verified_at"]
    column_formatters = {"print": lambda v, c, m, n: Markup('<a href="{}" target="_blank">{}</a>').format(
        url_for(".print_view", id=m.id), _("Print worksheet"))}
    form_ajax_refs = {"complaint": COMPLAINT_AJAX}
    form_excluded_columns = ["created_by", "created_at", "verified_at"]
    form_widget_args = {name: {"rows": 4} for name in workflow.WORKSHEET_SECTIONS}

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.created_by = current_user.id

    @expose("/print/")
    def print_view(self):
        worksheet = self.get_one(request.args.get("id"))
        complaint = worksheet.complaint
        return self.render("admin/complaints/worksheet.html", worksheet=worksheet, complaint=complaint,
                           field=lambda name: Rectification._meta.fields[name], printed_at=now())


class CallbackAdmin(DomainModelView):
    column_list = ["customer", "complaint", "kind", "due_date", "done_at", "staff", "channel", "satisfaction"]
    column_filters = ["kind", "due_date", "done_at", "channel",
                      FilterEqual(column=Callback.satisfaction, name=_l("Satisfaction"), options=SATISFACTION),
                      staff_filter(Callback.staff, _l("Staff"))]
    column_sortable_list = ["due_date", "done_at", "satisfaction"]
    column_default_sort = ("id", True)
    form_ajax_refs = {"customer": CUSTOMER_AJAX, "complaint": COMPLAINT_AJAX}

    def on_model_change(self, form, model, is_created):
        model.validate()  # the rule lives in the model (Callback.validate)


class CallbacksDueView(RoleBaseView):
    """Customers whose next scheduled callback (monthly in the first year, then quarterly) is due."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        today = now().date()
        horizon = request.args.get("days", default=0, type=int) or 0
        horizon = max(0, min(horizon, 90))
        if request.method == "POST":
            customer = scope_or_404(Customer, request.form.get("customer"))
            try:
                workflow.record_scheduled_callback(
                    customer, _user(), due_date=_parse_date(request.form.get("due_date"), _l("Invalid due date.")),
                    channel=request.form.get("channel", "phone"), outcome=request.form.get("outcome", ""),
                    satisfaction=request.form.get("satisfaction"))
            except WorkflowError as exc:
                flash(_("%(customer)s: %(error)s", customer=str(customer), error=str(exc)), "error")
            else:
                flash(_("Callback to %(customer)s recorded.", customer=str(customer)), "success")
                return redirect(url_for(".index", days=horizon or None))
        rows = callbacks_due(today, horizon, branches=branch_ids(_user()))
        shown = contact_shown_ids(_user(), [row["customer"] for row in rows])
        for row in rows:
            row["phone"] = row["customer"].phone if row["customer"].id in shown else mask("phone", row["customer"].phone)
        return self.render("admin/complaints/callbacks_due.html", rows=rows, today=today, horizon=horizon,
                           channel_choices=CALLBACK_CHANNEL_LIST.offered(), satisfaction_choices=SATISFACTION,
                           posted=request.form if request.method == "POST" else {})

"""My work (我的工作): the page office staff land on. Managers and directors open the same
queues per person (?staff=) or per branch (?branch=). The queues are models.workbench.

Branch scope (models.scope): a manager picks among the branches and people of their own
branches (the director and the administrator: all); every queue holds only complaints and
customers in the user's scope, an out-of-scope ?branch= or ?staff= reads like an unknown one,
and a follow-up is taken over only when it is in scope (404 otherwise). Customer phones are
shown in full to the people who own the customer (models.privacy), masked to everyone else."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from models import Branch, Complaint, Staff
from models.complaints import FINAL_STAGE
from models import workbench
from models.clock import now
from models.ownership import hand_over
from models.privacy import contact_shown_ids, mask
from models.scope import branch_choices, get_in_scope, scoped
from models.workflow import WorkflowError, next_stage, stage_action

from .base import RoleBaseView, _user
from .complaints import _complaint_due
from .reports import list_url, sorted_by


def landing_url(user):
    """Where an account lands after logging in: staff on My work, managers and directors on
    the dashboard."""
    if user is not None and user.is_authenticated and not user.has_role("manager"):
        return url_for("my_work.index")
    return url_for("admin.index")


# a queue longer than this shows its first rows (next deadline first) and links to the full list
QUEUE_LIMIT = 200


def _first(query):
    """The first QUEUE_LIMIT + 1 rows of a queue (one more, to tell that there are more)."""
    return list(query.limit(QUEUE_LIMIT + 1))


def _arg_id(name, model):
    """The row named by ?name= if it is in the user's scope; unknown and out of scope read alike."""
    raw = request.args.get(name, "")[:20]
    if not raw:
        return None
    row = get_in_scope(model, raw, _user())
    if row is None:
        what = _("Staff") if model is Staff else _("Branch")
        flash(_("Unknown %(what)s %(value)s: showing your own work.", what=what, value=raw), "error")
    return row


class MyWorkView(RoleBaseView):
    """Complaints to act on (next deadline first), callbacks due, follow-ups waiting."""

    @expose("/")
    def index(self):
        me = Staff.get_or_none(Staff.id == current_user.staff_id) if current_user.staff_id else None
        person = branch = None
        if current_user.has_role("manager"):
            person = _arg_id("staff", Staff)
            branch = None if person else _arg_id("branch", Branch)
        elif request.args.get("staff") or request.args.get("branch"):
            flash(_("Only managers open other people's work; this is yours."), "info")
        if person is None and branch is None:
            person = me
        moment = now()
        context = {"me": me, "person": person, "branch": branch, "moment": moment,
                   "next_action": lambda complaint: stage_action(next_stage(complaint)),
                   "due_html": lambda complaint: _complaint_due(self, None, complaint, "due_at")}
        user = _user()
        if branch is not None:
            context.update(complaints=_first(workbench.branch_complaints(branch, user)),
                           callbacks=workbench.callbacks_due_in_branch(branch, moment.date(), user=user),
                           followups=_first(workbench.waiting_followups(branch, user)), followup_branch=branch,
                           full_list=list_url("complaint", [(Complaint.branch, "RelatedFilter", branch.id),
                                                            (Complaint.stage, "FilterNotEqual", FINAL_STAGE)],
                                              **sorted_by("complaint", "due_at")))
        elif person is not None:
            followup_branch = Branch.get_by_id(person.branch_id)
            context.update(complaints=_first(workbench.complaints_to_act_on(person, user)),
                           callbacks=workbench.callbacks_due_to(person, moment.date(), user=user),
                           followups=_first(workbench.waiting_followups(followup_branch, user)),
                           followup_branch=followup_branch,
                           full_list=list_url("complaint", [(Complaint.assignee, "RelatedFilter", person.id),
                                                            (Complaint.stage, "FilterNotEqual", FINAL_STAGE)],
                                              **sorted_by("complaint", "due_at")))
        else:
            context.update(complaints=[], callbacks=[], followups=[], followup_branch=None, full_list=None)
        context["limit"] = QUEUE_LIMIT
        customers = [c.customer for c in context["complaints"][:QUEUE_LIMIT]] + \
            [row["customer"] for row in context["callbacks"]]
        shown = contact_shown_ids(user, customers)
        context["phone"] = lambda customer: (customer.phone, True) if customer.id in shown \
            else (mask("phone", customer.phone), False)
        if current_user.has_role("manager"):
            context["branches"] = branch_choices(user)
            context["people"] = list(scoped(Staff.select(Staff, Branch).join(Branch)
                                            .where(Staff.active == True).order_by(Branch.name, Staff.name),  # noqa: E712
                                            user, Staff))
        context["horizon"] = workbench.CALLBACK_HORIZON_DAYS
        return self.render("admin/workbench/my_work.html", **context)

    @expose("/take/", methods=("POST",))
    def take(self):
        """Take a waiting follow-up over: a hand-over on record to the logged-in staff member."""
        complaint = get_in_scope(Complaint, request.form.get("complaint"), _user())
        if complaint is None:
            abort(404)
        me = Staff.get_or_none(Staff.id == current_user.staff_id) if current_user.staff_id else None
        if me is None:
            flash(_("Your account is not linked to a staff member, so nothing can be handed over to you."), "error")
            return redirect(url_for(".index"))
        try:
            hand_over(complaint, me, _user(), _("Taken over from My work"))
        except WorkflowError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        flash(_("You now own complaint %(number)s.", number=complaint.number), "success")
        return redirect(url_for("complaint.details_view", id=complaint.id))

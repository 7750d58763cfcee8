"""Working-time calendars (administrator): hours per weekday per branch, and days off or
worked entered by hand (a holiday year the library does not know yet, a local holiday).
The rules are in models.calendars; these views only call them."""
from datetime import timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from flask_admin.form.widgets import DatePickerWidget
from wtforms import DateField
from wtforms.validators import Optional

from models import db
from models.audit import record
from models.calendars import CalendarDay, CalendarError, WorkCalendar, library_years, office_calendar, year_status
from models.clock import now

from .base import DomainModelView, _user
from .customers import RelatedFilter

# A range entered in one go is at most this long (a holiday week, a month of local holidays).
MAX_RANGE_DAYS = 31


class WorkCalendarAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["name", "branch", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                   "public_holidays"]
    column_default_sort = "name"
    form_columns = ["name", "branch", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                    "adjusted_hours", "public_holidays"]
    list_template = "admin/calendars/calendar_list.html"

    def get_list(self, *args, **kwargs):
        office_calendar()  # the office's calendar is always listed, with the standard hours
        return super().get_list(*args, **kwargs)

    def render(self, template, **kwargs):
        kwargs.setdefault("year_notes", year_notes())
        return super().render(template, **kwargs)


class CalendarDayAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["day", "kind", "name", "hours", "calendar"]
    column_filters = ["day", "kind",
                      RelatedFilter(column=CalendarDay.calendar, name=_l("Calendar"),
                                    options=lambda: [(c.id, c.name) for c in WorkCalendar.select().order_by(WorkCalendar.name)])]
    column_searchable_list = ["name"]
    column_default_sort = ("day", True)
    form_columns = ["calendar", "day", "until", "kind", "name", "hours"]
    form_extra_fields = {"until": DateField(_l("Until (optional)"), validators=[Optional()], widget=DatePickerWidget(),
                                            description=_l("Enter a range of days at once, e.g. 10-01 to 10-07"))}
    list_template = "admin/calendars/calendar_list.html"

    def render(self, template, **kwargs):
        kwargs.setdefault("year_notes", year_notes())
        return super().render(template, **kwargs)

    def create_model(self, form):
        """A day, or every day of the range day..until, each with a 'create' history row."""
        until = form.until.data if "until" in form else None
        first = form.day.data
        if until is None or first is None or until == first:
            return super().create_model(form)
        if until < first:
            form.until.errors = [_("The end of the range is before its first day.")]
            self.handle_view_exception(CalendarError(_("The end of the range is before its first day.")))
            return False
        if (until - first).days >= MAX_RANGE_DAYS:
            self.handle_view_exception(CalendarError(
                _("At most %(days)d days can be entered at once.", days=MAX_RANGE_DAYS)))
            return False
        try:
            with db.atomic():
                model = super().create_model(form)
                if not model:
                    raise _Refused()
                day = first + timedelta(days=1)
                while day <= until:
                    extra = CalendarDay(calendar=model.calendar_id, day=day, kind=model.kind, name=model.name,
                                        hours=model.hours)
                    extra.save()
                    record(extra, "create", _user())
                    day += timedelta(days=1)
        except _Refused:
            return False
        except CalendarError as exc:
            self.handle_view_exception(exc)
            return False
        return model


class _Refused(Exception):
    """The first day was refused (its message is already shown): roll the range back."""


def year_notes():
    """This year and the next: where their public holidays come from, for the warning above the lists."""
    this_year = now().year
    notes = []
    for year in (this_year, this_year + 1):
        status = year_status(year)
        if status == "library":
            text = _("%(year)s: public holidays and adjusted working days from the State Council's schedule.",
                     year=year)
        elif status == "by hand":
            text = _("%(year)s: public holidays entered by hand (national days below).", year=year)
        else:
            text = _("%(year)s: not yet in the holiday library (it knows %(first)s-%(last)s): enter the year's "
                     "public holidays and adjusted working days below as national days (no calendar), or deadlines "
                     "in working hours will count only weekends as days off.",
                     year=year, first=min(library_years()), last=max(library_years()))
        notes.append((status, text))
    return notes

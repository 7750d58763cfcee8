"""Spreadsheet pages for managers: report workbooks and the customer import.
(List exports live on every model view: DomainModelView.export.)"""
import os
import tempfile
from datetime import date

from flask import abort, current_app, flash, redirect, request, send_file, session, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from exports import importer, staging
from exports.listing import xlsx_response
from exports.log import finish_export, start_export
from exports.reports import report_filename, report_sheets
from models.reports import REPORT_KINDS, REPORT_OF_PERIOD, report_period
from exports.writers import XLSX_MIMETYPE
from models.clock import now
from models.reports import FIRST_DAY, LAST_DAY
from models.scope import branch_choices, branch_ids

from .base import RoleBaseView

SESSION_KEY = "customer_import"


def _user():
    return current_user._get_current_object()


class ReportWorkbookView(RoleBaseView):
    """Weekly (周报) and monthly (月报) report workbooks, one sheet per figure."""

    required_role = "manager"

    def _period(self):
        kind = request.args.get("kind", "weekly")
        try:
            day = date.fromisoformat(request.args.get("day") or now().date().isoformat())
        except ValueError:
            day = None
        if kind not in REPORT_KINDS or day is None or not FIRST_DAY <= day <= LAST_DAY:
            return None
        return report_period(kind, day)

    @expose("/")
    def index(self):
        period = self._period()
        if period is None:
            flash(_("Choose a report and a valid date."), "error")
            period = report_period("weekly", now().date())
        return self.render("admin/exports/reports.html", period=period, kinds=REPORT_KINDS, report_of=REPORT_OF_PERIOD,
                           day=request.args.get("day") or now().date().isoformat())

    @expose("/download/")
    def download(self):
        period = self._period()
        if period is None:
            flash(_("Choose a report and a valid date."), "error")
            return redirect(url_for(".index"))
        branches = branch_ids(_user())
        filters = {"from": period.start.isoformat(" "), "to": period.end.isoformat(" ")}
        if branches is not None:
            filters["branches"] = [b.name for b in branch_choices(_user())]
        # the satisfaction table and the responses name customers
        log = start_export(_user(), f"report:{REPORT_OF_PERIOD[period.kind]}", "xlsx", filters, personal_data=True)
        return xlsx_response(report_sheets(period, branches=branches), report_filename(period),
                             lambda rows: finish_export(log, rows))


class CustomerImportView(RoleBaseView):
    """Upload → preview with row-level errors → import the valid rows, or all or nothing."""

    required_role = "manager"

    def create_blueprint(self, admin):
        blueprint = super().create_blueprint(admin)
        # an upload over the app's MAX_CONTENT_LENGTH is refused before any view runs
        blueprint.register_error_handler(RequestEntityTooLarge, self._too_large)
        return blueprint

    def _too_large(self, error):
        flash(_("The file is too large."), "error")
        return redirect(url_for(".index"))

    def _folder(self):
        return current_app.config.get("IMPORT_STAGING_DIR") or os.path.join(current_app.instance_path, "imports")

    def _limit(self):
        return current_app.config.get("CUSTOMER_IMPORT_MAX_BYTES", importer.MAX_BYTES)

    def _max_rows(self):
        return current_app.config.get("CUSTOMER_IMPORT_MAX_ROWS", importer.MAX_ROWS)

    def _staged(self):
        return session.get(SESSION_KEY) or {}

    def _forget(self):
        staged = session.pop(SESSION_KEY, None)
        if staged:
            staging.discard(self._folder(), staged.get("token"), staged.get("ext"))

    @expose("/")
    def index(self):
        return self.render("admin/exports/import.html", max_mb=self._limit() // (1024 * 1024),
                           max_rows=self._max_rows())

    @expose("/template.xlsx")
    def template(self):
        handle = tempfile.TemporaryFile()
        importer.write_template(handle)
        handle.seek(0)
        return send_file(handle, mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=_("customer-import-template") + ".xlsx")

    @expose("/preview/", methods=("POST",))
    def preview(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose a file to upload."), "error")
            return redirect(url_for(".index"))
        data = upload.stream.read(self._limit() + 1)
        try:
            extension = importer.check_upload(upload.filename, data, self._limit())
            preview = importer.preview_customers(data, extension, self._max_rows(), _user())
        except importer.ImportFileError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        self._forget()
        token = staging.stage(self._folder(), data, extension)
        session[SESSION_KEY] = {"token": token, "ext": extension, "filename": upload.filename[:200]}
        return self._render_preview(preview, token, upload.filename)

    def _render_preview(self, preview, token, filename):
        return self.render("admin/exports/import_preview.html", preview=preview, token=token, filename=filename,
                           shown_rows=preview.rows[:200], shown_errors=preview.errors[:500])

    @expose("/confirm/", methods=("POST",))
    def confirm(self):
        staged = self._staged()
        token = request.form.get("token", "")
        mode = request.form.get("mode")
        if mode not in ("valid", "all"):
            abort(400)
        data = staging.load(self._folder(), staged.get("token"), staged.get("ext")) if staged else None
        if not staged or token != staged.get("token") or data is None:
            flash(_("This preview has expired or belongs to another upload. Upload the file again."), "error")
            return redirect(url_for(".index"))
        try:
            # checked again: the database may have changed since the preview
            preview = importer.preview_customers(data, staged["ext"], self._max_rows(), _user())
            created = importer.import_customers(preview, mode, _user())
        except importer.ImportFileError as exc:
            flash(str(exc), "error")
            self._forget()
            return redirect(url_for(".index"))
        except importer.ImportRefused as exc:
            flash(str(exc), "error")
            return self._render_preview(preview, token, staged.get("filename", ""))
        self._forget()
        skipped = len(preview.rows) - len(created)
        if skipped:
            flash(_("%(created)d customers imported; %(skipped)d rows with errors were skipped.",
                    created=len(created), skipped=skipped), "warning")
        else:
            flash(_("%(created)d customers imported.", created=len(created)), "success")
        return redirect(url_for("customer.index_view"))

    @expose("/cancel/", methods=("POST",))
    def cancel(self):
        self._forget()
        flash(_("Import cancelled; nothing was written."), "info")
        return redirect(url_for(".index"))

"""Export of an admin list as the user sees it (search, filters, sort), as a download.

The query is Flask-Admin's own (view.get_list(..., execute=False)), so the export holds
exactly the rows of the list, on every page, with no row cap.
"""
import tempfile
from urllib.parse import quote

from flask import Response, send_file, stream_with_context

from models.clock import now
from models.privacy import personal_columns

from .log import finish_export, start_export
from .rows import model_sheet
from .writers import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, write_xlsx

FORMATS = ("xlsx", "csv")


def list_query(view):
    """(count, query, description of the search/filters/sort) from the list URL's arguments."""
    args = view._get_list_extra_args()
    sort = view._get_column_by_idx(args.sort)
    sort_column = sort[0] if sort and sort[0] in view._sortable_columns else None  # a forged index: default order
    count, query = view.get_list(0, sort_column, args.sort_desc, args.search, args.filters,
                                 execute=False, page_size=0)
    description = {}
    if args.search:
        description["search"] = args.search
    if args.filters:
        description["filters"] = [f"{name} {view._filters[idx].operation()} {value}"
                                  for idx, name, value in args.filters]
    if sort_column:
        description["sort"] = f"{sort_column} {'desc' if args.sort_desc else 'asc'}"
    return count, query, description


def view_sheet(view):
    """(count, Sheet, description) of the list behind `view` in the current request. The
    description names the columns that hold personal data, if any (sheet.personal_data)."""
    from .reports import office_name
    count, query, description = list_query(view)
    sheet = model_sheet(view.name, view.model, query, view._export_columns)
    sheet.print_title = (office_name(), str(view.name), f"{now():%Y-%m-%d %H:%M}")
    personal = personal_columns(view.model, [name for name, _label in view._export_columns])
    if personal:
        sheet.personal_data = True
        description["personal_data"] = personal
    return count, sheet, description


def download_name(title, fmt):
    return f"{title}_{now():%Y%m%d-%H%M}.{fmt}"


def attachment_header(filename):
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def xlsx_response(sheets, filename, on_done):
    """Write the workbook to an unnamed temporary file (constant memory), then send it."""
    handle = tempfile.TemporaryFile()
    try:
        written = write_xlsx(handle, sheets)
    except BaseException:
        handle.close()
        raise
    on_done(sum(sheet.count for sheet in written))
    handle.seek(0)
    return send_file(handle, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)


def csv_response(sheet, filename, on_done):
    """Stream the csv: the header goes out before the first row is read."""
    response = Response(stream_with_context(csv_chunks(sheet, on_done)), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = attachment_header(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def export_list(view, fmt, user):
    """The response for /admin/<endpoint>/export/<fmt>/, recorded in the export log."""
    _count, sheet, description = view_sheet(view)
    log = start_export(user, view.endpoint, fmt, description, personal_data=sheet.personal_data)
    filename = download_name(sheet.title, fmt)
    if fmt == "xlsx":
        return xlsx_response([sheet], filename, lambda rows: finish_export(log, rows))
    return csv_response(sheet, filename, lambda rows: finish_export(log, rows))

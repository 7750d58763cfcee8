"""Sheets and the two formats they are written in.

A Sheet is a title, a list of Columns (header label, kind, width) and an iterator of row
tuples holding human values (str, int, float, Decimal, date, datetime, None). Nothing is
kept in memory: xlsx goes through xlsxwriter's constant_memory mode (one row buffered), csv
is a generator of byte chunks, so a response can start before the query has finished.

Every xlsx sheet prints: A4, landscape when its columns are wider than a portrait page,
scaled to one page wide (as many pages down as it needs), the header row repeated on every
printed page, a page header with the print title (office, report or list, period) and a
footer with the sheet's name and the page number; columns as wide as their header and the
first rows need (up to a limit, longer text wraps instead of being cut).
"""
import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Optional

import xlsxwriter

from .safety import FORMULA_TRIGGERS, csv_text

TEXT, NUMBER, PERCENT, DATE, DATETIME, ANY = "text", "number", "percent", "date", "datetime", "any"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"  # Flask adds charset=utf-8
BOM = "\ufeff"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
CSV_BATCH = 500  # rows per yielded csv chunk


@dataclass
class Column:
    label: str
    kind: str = ANY
    width: Optional[float] = None


@dataclass
class Sheet:
    """One table: header labels, then rows. `rows` is consumed once. `print_title`: what the
    printed page header says (left, centre, right: office, report or list, period)."""

    title: str
    columns: list
    rows: Iterable
    count: int = field(default=0, init=False)  # rows written, set while writing
    print_title: tuple = ()
    personal_data: bool = False  # holds customers' personal data (the export log says so)


def display_width(text):
    """Width in Excel character units: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


# widths in Excel character units
KIND_WIDTHS = {DATETIME: 17, DATE: 11, NUMBER: 9, PERCENT: 9}
TEXT_MIN_WIDTH, TEXT_MAX_WIDTH = 8, 50  # text wider than the maximum wraps onto more lines
HEADER_MAX_WIDTH = 16  # a longer header label wraps (the header row wraps) rather than widening the column
MEASURED_ROWS = 200  # rows whose text decides a column's width
PORTRAIT_MAX_WIDTH = 95  # columns wider than this in all print landscape
A4 = 9


def column_width(column, content_width=0):
    """The width of a column: its own, else from its kind, its header (up to HEADER_MAX_WIDTH)
    and the widest text of the first rows (up to TEXT_MAX_WIDTH)."""
    if column.width:
        return column.width
    header = min(display_width(column.label), HEADER_MAX_WIDTH) + 2
    if column.kind in KIND_WIDTHS:
        return max(KIND_WIDTHS[column.kind], header)
    return max(TEXT_MIN_WIDTH, header, min(content_width + 2, TEXT_MAX_WIDTH))


def header_text(text):
    """Text for a page header/footer section: '&' doubled (xlsxwriter reads &P, &N … as codes)."""
    return str(text).replace("&", "&&")


_BAD_TITLE_CHARS = str.maketrans({ch: " " for ch in "[]:*?/\\"})


def sheet_title(title, used):
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = str(title).translate(_BAD_TITLE_CHARS).strip().strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


# --------------------------------------------------------------------------- xlsx

def open_workbook(target):
    """An xlsxwriter workbook in constant-memory mode that never turns text into formulas,
    numbers or links (every cell is written with its explicit type anyway)."""
    return xlsxwriter.Workbook(target, {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "nan_inf_to_errors": True,
    })


class XlsxWriter:
    """Writes Sheets one after another into one workbook."""

    def __init__(self, target, progress=None):
        self.workbook = open_workbook(target)
        self.progress = progress  # called with the number of rows written so far, every 1000 rows
        self._titles = set()
        wb = self.workbook
        self.header_format = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": True,
                                            "valign": "top"})
        # typing in the cell keeps it text; wraps like the other text cells
        self.text_as_text = wb.add_format({"quote_prefix": True, "text_wrap": True, "valign": "top"})
        self.datetime_format = wb.add_format({"num_format": DATETIME_FORMAT})
        self.date_format = wb.add_format({"num_format": DATE_FORMAT})
        self.percent_format = wb.add_format({"num_format": "0.0%"})
        self.wrap_format = wb.add_format({"text_wrap": True, "valign": "top"})
        self.written = 0

    def add(self, sheet):
        ws = self.workbook.add_worksheet(sheet_title(sheet.title, self._titles))
        columns = sheet.columns
        for c, column in enumerate(columns):
            # text columns wrap: the format must be on the column before its rows are written
            ws.set_column(c, c, column_width(column), self.wrap_format if column.kind in (TEXT, ANY) else None)
        # the header row is tall enough for its longest wrapped label (set before the row is written)
        lines = max([-(-display_width(column.label) // max(int(column_width(column)) - 1, 1)) for column in columns]
                    or [1])
        ws.set_row(0, 15 * min(max(lines, 1), 4))
        for c, column in enumerate(columns):
            ws.write_string(0, c, str(column.label), self.header_format)
        ws.freeze_panes(1, 0)
        measured = [0] * len(columns)
        last_row = self._write_rows(ws, [col.kind for col in columns], _measuring(sheet.rows, measured))
        sheet.count = last_row
        widths = [column_width(column, measured[c]) for c, column in enumerate(columns)]
        for c, column in enumerate(columns):
            ws.set_column(c, c, widths[c], self.wrap_format if column.kind in (TEXT, ANY) else None)
        if columns:
            ws.autofilter(0, 0, max(last_row, 1), len(columns) - 1)
        self._page_setup(ws, sheet, sum(widths))
        return ws

    def _page_setup(self, ws, sheet, total_width):
        ws.set_paper(A4)
        if total_width > PORTRAIT_MAX_WIDTH:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)  # one page wide, as many down as needed
        ws.repeat_rows(0)  # the header row on every printed page
        ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
        left, centre, right = (tuple(sheet.print_title) + ("", "", ""))[:3]
        ws.set_header(f"&L{header_text(left)}&C&B{header_text(centre or sheet.title)}&R{header_text(right)}",
                      {"margin": 0.3})
        ws.set_footer("&L&A&R&P / &N", {"margin": 0.3})

    def _write_rows(self, ws, kinds, rows):
        # xlsxwriter's undecorated writers (row/col as numbers, no "A1" parsing): the same
        # typed cells as write_string/number/datetime, a call less per cell (XlsxWriter is pinned)
        write_string = getattr(ws, "_write_string", ws.write_string)
        write_number = getattr(ws, "_write_number", ws.write_number)
        write_datetime = getattr(ws, "_write_datetime", ws.write_datetime)
        quoted, dt_format, d_format = self.text_as_text, self.datetime_format, self.date_format
        triggers = FORMULA_TRIGGERS
        progress, written = self.progress, self.written
        r = 0
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                kind = kinds[c]
                if kind == TEXT:
                    if value[0] in triggers:
                        write_string(r, c, value, quoted)
                    else:
                        write_string(r, c, value)
                elif kind == NUMBER:
                    write_number(r, c, value)
                elif kind == PERCENT:
                    write_number(r, c, value, self.percent_format)
                elif kind == DATETIME and value.__class__ is datetime:
                    write_datetime(r, c, value, dt_format)
                elif kind == DATE and value.__class__ is date:
                    write_datetime(r, c, value, d_format)
                else:
                    self._write_any(ws, r, c, value)
            if progress and not r % 1000:
                progress(written + r)
        self.written = written + r
        if progress:
            progress(self.written)
        return r

    def _write_any(self, ws, r, c, value):
        if isinstance(value, bool):
            ws.write_boolean(r, c, value)
        elif isinstance(value, (int, float, Decimal)):
            ws.write_number(r, c, float(value) if isinstance(value, Decimal) else value)
        elif isinstance(value, datetime):
            ws.write_datetime(r, c, value, self.datetime_format)
        elif isinstance(value, date):
            ws.write_datetime(r, c, value, self.date_format)
        else:
            text = str(value)
            if text[:1] in FORMULA_TRIGGERS:
                ws.write_string(r, c, text, self.text_as_text)
            else:
                ws.write_string(r, c, text)

    def close(self):
        self.workbook.close()


def _measuring(rows, widths):
    """Pass the rows through, noting the widest text per column in the first MEASURED_ROWS."""
    for index, row in enumerate(rows):
        if index < MEASURED_ROWS:
            for c, value in enumerate(row):
                if value.__class__ is str and value:
                    width = len(value) if value.isascii() else display_width(max(value.split("\n"), key=len))
                    if width > widths[c]:
                        widths[c] = width
        yield row


def write_xlsx(target, sheets, progress=None):
    """Write every sheet into one xlsx file (path or binary file object); returns the sheets."""
    writer = XlsxWriter(target, progress)
    done = []
    try:
        for sheet in sheets:
            writer.add(sheet)
            done.append(sheet)
    finally:
        writer.close()
    return done


# --------------------------------------------------------------------------- csv

def csv_value(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, int, float, Decimal)):
        return str(value)
    return csv_text(str(value))


def csv_chunks(sheet, on_done=None):
    """The sheet as UTF-8 csv with a BOM (so Excel picks the encoding), CRLF lines and
    minimal quoting; yielded in chunks, the header first, before any row is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_text(str(column.label)) for column in sheet.columns])
    yield (BOM + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    count = 0
    for row in sheet.rows:
        writer.writerow([csv_value(value) for value in row])
        count += 1
        if not count % CSV_BATCH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
    sheet.count = count
    if on_done:
        on_done(count)

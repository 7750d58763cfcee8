"""Spreadsheets in and out: streaming, formula-safe xlsx/csv exports of admin lists and
report workbooks, and the customer import from xlsx/csv.

    safety.py    formula-injection rules (OWASP CSV injection)
    writers.py   Sheet (title + columns + row iterator) → xlsx (constant memory) or csv (generator)
    rows.py      an admin list's query → rows of human values (labels, related names, dates)
    listing.py   /admin/<view>/export/<xlsx|csv>/: the list's search, filters and sort, as a download
    log.py       every export recorded in models.audit.ExportLog
    reports.py   weekly / monthly report workbooks, one builder per sheet
    importer.py  customer import: parse, validate, preview, write
    staging.py   the uploaded file kept on disk between preview and confirmation
"""

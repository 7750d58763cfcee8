"""Our UI strings: English msgids, Chinese translations kept per area in
translations/src/zh_CN/<area>.po (one file per area, so parallel work does not collide).

    python -m translations.catalog            # compile into translations/zh_Hans_CN/LC_MESSAGES/messages.mo
                                              # (and admin.mo: Flask-Admin's strings, ours on top)
    python -m translations.catalog --missing  # list msgids used in the code without a Chinese translation
    python -m translations.catalog --missing-po translations/src/zh_CN/AREA.po  # add them there, to translate

create_app() compiles on start when a .po is newer than the .mo, so a plain `flask run` works too.
"""
import os
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = HERE / "src"
# Flask-Babel resolves zh_CN to the zh_Hans_CN folder (that is also where Flask-Admin keeps its zh catalog).
TARGETS = {"zh_CN": HERE / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"}
# Flask-Admin's own strings (its "admin" domain): its zh catalog with ours on top, compiled next
# to messages.mo; admin.init_admin points Flask-Admin at this folder. Flask-Admin ships a
# stale admin.mo (strings such as "Failed to create record." are in its .po only) and some odd
# Chinese ("请选择模型"); our catalogs fix those by translating the same msgid.
ADMIN_TARGETS = {"zh_CN": HERE / "zh_Hans_CN" / "LC_MESSAGES" / "admin.mo"}
FLASK_ADMIN_FOLDERS = {"zh_CN": "zh_Hans_CN"}
CODE_DIRS = [p.name for p in sorted(ROOT.glob("*.py"))] + [
    "auth", "admin", "models", "surveys", "reports", "exports", "templates", "notify"]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
            "lazy_ngettext": (1, 2)}


def merged_catalog(locale, conflicts=None):
    """All areas' translations in one catalog. A msgid translated differently in two areas
    keeps the first (files in name order) and is reported in `conflicts` (a test fails on any)."""
    catalog = Catalog(locale=locale)
    for po_file in sorted((SOURCES / locale).glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if not message.id or not message.string:
                    continue
                known = catalog.get(message.id)
                if known is not None:
                    if known.string != message.string and conflicts is not None:
                        conflicts.append((po_file.name, message.id, known.string, message.string))
                    continue
                catalog[message.id] = message
    return catalog


def flask_admin_po(locale):
    """Flask-Admin's own .po for `locale` (its source, not its stale .mo), or None."""
    import flask_admin
    path = Path(flask_admin.__file__).parent / "translations" / FLASK_ADMIN_FOLDERS[locale] / "LC_MESSAGES" / "admin.po"
    return path if path.exists() else None


def admin_catalog(locale):
    """Flask-Admin's catalog with every msgid our catalogs translate replaced by ours."""
    catalog = Catalog(locale=locale)
    source = flask_admin_po(locale)
    if source is not None:
        with source.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id and message.string and not message.fuzzy:
                    catalog[message.id] = message
    for message in merged_catalog(locale):
        if message.id:
            if catalog.get(message.id) is not None:
                del catalog[message.id]  # assigning would keep Flask-Admin's string
            catalog[message.id] = message
    return catalog


def _write_atomically(target, catalog):
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        write_mo(handle, catalog)
    os.replace(tmp, target)  # atomic: several workers may start at once


def compile_all(force=False):
    for locale, target in TARGETS.items():
        sources = list((SOURCES / locale).glob("*.po"))
        admin_target = ADMIN_TARGETS[locale]
        fresh = all(t.exists() and all(p.stat().st_mtime <= t.stat().st_mtime for p in sources)
                    for t in (target, admin_target))
        if not force and fresh:
            continue
        _write_atomically(target, merged_catalog(locale))
        _write_atomically(admin_target, admin_catalog(locale))


def used_msgids():
    """Every translatable string in our Python code and templates, with where it is used."""
    from babel.messages.extract import extract_from_file
    found = {}
    for entry in CODE_DIRS:
        base = ROOT / entry
        files = [base] if base.is_file() else sorted(base.rglob("*")) if base.exists() else []
        for path in files:
            if path.suffix == ".py":
                method = "python"
            elif path.suffix in (".html", ".txt") and "templates" in path.parts:
                method = "jinja2"
            else:
                continue
            for lineno, message, _comments, _context in extract_from_file(
                    method, str(path), keywords=KEYWORDS,
                    options={"extensions": "jinja2.ext.i18n"} if method == "jinja2" else None):
                ids = message if isinstance(message, tuple) else (message,)
                for msgid in ids:
                    if msgid:
                        found.setdefault(msgid, f"{path.relative_to(ROOT)}:{lineno}")
    return found


def missing(locale="zh_CN"):
    catalog = merged_catalog(locale)
    return {msgid: where for msgid, where in used_msgids().items() if catalog.get(msgid) is None}


def write_missing_po(path, locale="zh_CN"):
    """Append the untranslated msgids (empty msgstr) to `path`, ready to be translated."""
    from babel.messages.pofile import write_po
    target = Path(path)
    catalog = Catalog(locale=locale)
    if target.exists():
        with target.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
    for msgid, where in missing(locale).items():
        if catalog.get(msgid) is None:
            file_name, lineno = where.rsplit(":", 1)
            catalog.add(msgid, "", locations=[(file_name, int(lineno))])
    with target.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=False)


if __name__ == "__main__":
    if "--missing-po" in sys.argv:
        write_missing_po(sys.argv[sys.argv.index("--missing-po") + 1])
    elif "--missing" in sys.argv:
        gaps = missing()
        for msgid, where in sorted(gaps.items(), key=lambda kv: kv[1]):
            print(f"{where}\t{msgid}")
        sys.exit(1 if gaps else 0)
    compile_all(force=True)
    print("compiled", ", ".join(str(t.relative_to(ROOT)) for t in [*TARGETS.values(), *ADMIN_TARGETS.values()]))

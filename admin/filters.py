"""Flask-Admin's date and date-time range filters, also reading the range written the
Chinese way: the date picker shows "2026-11-01 至 2026-11-30" on Chinese pages (see
templates/admin/service_base.html) where Flask-Admin writes "2026-11-01 to 2026-11-30".
Both spellings are accepted, so links built either way keep working. The classes keep
Flask-Admin's names: admin.reports.list_url finds a filter by its class name."""
from flask_admin.contrib.peewee import filters

SEPARATORS = (" 至 ", "至")


def _english_range(value):
    for separator in SEPARATORS:
        if isinstance(value, str) and separator in value:
            return value.replace(separator, " to ", 1)
    return value


class _ChineseRange:
    def validate(self, value):
        return super().validate(_english_range(value))

    def clean(self, value):
        return super().clean(_english_range(value))


class DateBetweenFilter(_ChineseRange, filters.DateBetweenFilter):
    pass


class DateNotBetweenFilter(_ChineseRange, filters.DateNotBetweenFilter):
    pass


class DateTimeBetweenFilter(_ChineseRange, filters.DateTimeBetweenFilter):
    pass


class DateTimeNotBetweenFilter(_ChineseRange, filters.DateTimeNotBetweenFilter):
    pass


def _replaced(classes, replacements):
    return tuple(replacements.get(cls.__name__, cls) for cls in classes)


class FilterConverter(filters.FilterConverter):
    """Flask-Admin's converter with the range filters above."""

    date_filters = _replaced(filters.FilterConverter.date_filters,
                             {"DateBetweenFilter": DateBetweenFilter, "DateNotBetweenFilter": DateNotBetweenFilter})
    datetime_filters = _replaced(filters.FilterConverter.datetime_filters,
                                 {"DateTimeBetweenFilter": DateTimeBetweenFilter,
                                  "DateTimeNotBetweenFilter": DateTimeNotBetweenFilter})

"""Flask-Admin's date and date-time range filters, also reading the range written the
Chinese way: the date picker shows "2026-11-01 至 2026-11-30" on Chinese pages (see
templates/admin/service_base.html) where Flask-Admin writes "2026-11-01 to 2026-11-30".
Both spellings are accepted, so links built either way keep working. The classes keep
Flask-Admin's names: admin.reports.list_url finds a filter by its class name. A column of
one of the office's lists is filtered by picking one of its values (conv_string)."""
from functools import partial

from flask import has_request_context
from flask_admin.contrib.peewee import filters
from flask_admin.model.filters import convert

from models.choices import ProductList

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

    @convert("CharField", "TextField")
    def conv_string(self, column, name):
        """A column of one of the office's lists (models.choices.ProductList) is filtered by
        picking a value (equals / not equal; empty when the column may be): the options are
        the list as it is when the page is shown, deactivated values marked (old rows keep
        them). The classes keep Flask-Admin's names, which admin.reports.list_url finds."""
        product = getattr(column, "choices", None)
        if not isinstance(product, ProductList):
            return super().conv_string(column, name)
        found = [filters.FilterEqual(column, name, options=partial(_list_options, product)),
                 filters.FilterNotEqual(column, name, options=partial(_list_options, product))]
        if column.null:
            found.append(filters.FilterEmpty(column, name))
        return found


def _list_options(product):
    """The filter's options, read per request (Flask-Admin also asks when the view is made)."""
    if not has_request_context():
        return []
    return product.filter_options()

"""系统 → 选项列表: the choice lists and their values (administrator): the product's own lists
(models.choices.ProductList: categories, channels, …) and the lists of custom fields' values.
How the other views read the product's lists per request: admin.list_fields."""
from flask import request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup

from models.choices import PRODUCT_LISTS, ChoiceList, ChoiceValue

from .base import DomainModelView


# ------------------------------------------------------------------ the administrator's pages

def _values_link(view, context, model, name):
    count = getattr(model, "value_count", None)
    text = _("%(count)s values", count=count) if count is not None else _("Values")
    return Markup('<a href="{}">{}</a>').format(url_for("choicevalue.index_view", list=model.id), text)


def _kind_of_list(view, context, model, name):
    return _("The product's own list") if model.code in PRODUCT_LISTS else _("Custom field values")


class ChoiceListAdmin(DomainModelView):
    """系统 → 选项列表: the product's own lists (categories, channels, …) and the lists of the
    custom fields. A list's values are edited on its values page."""

    required_role = "admin"
    delete_role = "admin"
    column_list = ["name_zh", "name_en", "code", "kind", "values"]
    column_labels = {"kind": _l("Used for"), "values": _l("Values")}
    column_formatters = {"values": _values_link, "kind": _kind_of_list}
    form_columns = ["code", "name_zh", "name_en"]
    column_searchable_list = ["code", "name_zh", "name_en"]
    column_default_sort = "id"

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) and rows:
            from peewee import fn
            counts = dict(ChoiceValue.select(ChoiceValue.choice_list, fn.COUNT(ChoiceValue.id))
                          .where(ChoiceValue.choice_list.in_([row.id for row in rows]))
                          .group_by(ChoiceValue.choice_list).tuples())
            for row in rows:
                row.value_count = counts.get(row.id, 0)
        return count, rows


def _built_in(view, context, model, name):
    """'built in' next to a value the product's rules use (it stays active)."""
    product = PRODUCT_LISTS.get(model.choice_list.code) if model.choice_list else None
    if product is None or model.code not in product.built_in():
        return ""
    return Markup('<span class="badge badge-info" title="{}">{}</span>').format(
        _("The product's rules use this value: it can be renamed and moved, not deactivated."), _("Built in"))


class ChoiceValueAdmin(DomainModelView):
    """A list's values: add, rename (Chinese and English), reorder, deactivate; a value in use
    (or built in) is never deleted."""

    required_role = "admin"
    delete_role = "admin"
    column_list = ["choice_list", "position", "label_zh", "label_en", "code", "active", "built_in"]
    column_labels = {"built_in": _l("Built in")}
    column_formatters = {"built_in": _built_in}
    column_editable_list = ["label_zh", "label_en", "position", "active"]
    column_filters = ["active"]
    column_searchable_list = ["code", "label_zh", "label_en"]
    column_default_sort = [("choice_list", False), ("position", False), ("id", False)]
    form_columns = ["choice_list", "label_zh", "label_en", "code", "position", "active"]
    form_args = {"code": {"description": _l("Stored on the records and used by scoring; never changes once in use. "
                                            "Empty: made from the English label")}}
    list_template = "admin/choices/values.html"

    def get_filters(self):
        from .customers import RelatedFilter  # admin.customers imports admin.custom_fields, which imports this
        lists = RelatedFilter(column=ChoiceValue.choice_list, name=_l("Choice list"),
                              options=lambda: [(c.id, str(c)) for c in ChoiceList.select().order_by(ChoiceList.id)])
        return [lists] + list(super().get_filters() or [])

    def _filtered_list(self):
        """The list named by ?list= (the lists page links here), or None."""
        raw = request.args.get("list", "")
        return ChoiceList.get_or_none(ChoiceList.id == int(raw)) if raw.isdigit() else None

    def get_query(self):
        query = super().get_query()
        chosen = self._filtered_list() if request else None
        return query.where(ChoiceValue.choice_list == chosen.id) if chosen is not None else query

    def get_count_query(self):
        return self.get_query()

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["choice_list"] = self._filtered_list()
        return super().render(template, **kwargs)

    def create_form(self, obj=None):
        """A new value starts in the list the page shows (?list=), after its last value."""
        form = super().create_form(obj)
        chosen = self._filtered_list()
        if request.method == "GET" and chosen is not None:
            form.choice_list.data = chosen
            last = (ChoiceValue.select(ChoiceValue.position).where(ChoiceValue.choice_list == chosen.id)
                    .order_by(ChoiceValue.position.desc()).scalar())
            form.position.data = (last or 0) + 10
        return form

    def get_save_return_url(self, model, is_created=False):
        return url_for(".index_view", list=model.choice_list_id)

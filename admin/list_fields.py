"""How every model view reads the office's own lists (models.choices.ProductList) when a page
is shown instead of once at start-up: the form's select here, the list cell and the details
value in admin.base (DomainModelView._get_list_value), the filters in admin.filters.

Flask-Admin builds a view's forms, labels and filters when the view is made; a ProductList
field is left out of that and read per request (one query for all lists, models.choices), so
a value the administrator adds appears at once in every process, with no restart."""
from flask_admin.contrib.peewee.form import CustomModelConverter
from wtforms.utils import unset_value
from wtfpeewee.fields import SelectChoicesField
from wtfpeewee.orm import FieldInfo

from models.choices import ProductList


class ListSelectField(SelectChoicesField):
    """A select over one of the office's lists: the active values, plus the value the record
    already has (kept when it was deactivated since), read when the form is made."""

    def __init__(self, *args, product_list=None, **kwargs):
        self.product_list = product_list
        kwargs["choices"] = []
        super().__init__(*args, **kwargs)

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.choices = self.product_list.offered(keep=[self.object_data] if self.object_data else [])


class ChoiceListConverter(CustomModelConverter):
    """Flask-Admin's form converter; a field whose choices are a ProductList becomes a
    ListSelectField (the view's form_overrides still win)."""

    def convert(self, model, field, field_args):
        converted = super().convert(model, field, field_args)
        if not isinstance(field.choices, ProductList) or converted.field is None or field.name in self.overrides:
            return converted
        unbound = converted.field
        kwargs = {key: value for key, value in unbound.kwargs.items() if key != "choices"}
        return FieldInfo(converted.name, ListSelectField(*unbound.args, product_list=field.choices, **kwargs))


def list_columns(model):
    """{field name: ProductList} of a model's fields kept as the office's lists."""
    return {name: field.choices for name, field in model._meta.fields.items() if isinstance(field.choices, ProductList)}

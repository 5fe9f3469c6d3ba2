"""One look and behaviour for every list page's filter bar, over the API's unchanged filters."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.http import HttpRequest
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ModelChoiceField

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit

ANY = _("Any")


class WrittenOptions(forms.Select):
    """A drop-down whose options are written here, not by a template include each: the same
    markup as Django's select template. The CISO's unit filter offers 500 units, and rendering
    them one include at a time cost more than the rest of the list page together."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        # The select's own name, attributes and chosen value as Django's widget works them out;
        # the options straight from the choices, the first match selected, as Django does.
        widget = forms.Widget.get_context(self, name, value, attrs)["widget"]
        if self.allow_multiple_selected:
            widget["attrs"]["multiple"] = True
        choices = tuple(
            (key, tuple(label) if isinstance(label, list | tuple) else label)
            for key, label in _listed(self.choices)
        )
        options = _written(choices, frozenset(widget["value"]), self.allow_multiple_selected)
        opening = f'<select name="{escape(name)}"{flatatt(widget["attrs"])}>'
        return mark_safe(f"{opening}{options}</select>")  # noqa: S308  # nosec B308, B703: escaped


@functools.lru_cache(maxsize=128)
def _written(choices: tuple[tuple[Any, Any], ...], chosen: frozenset[str], multiple: bool) -> str:
    """The options of a drop-down, the first match selected (all matches when `multiple`), as
    Django does; kept for the same choices and choice. A lazy label hashes and compares by its
    text in the active language, so each language has its own. The CISO's 500 units are written
    once, not on every list page."""
    found = False
    parts = []
    for key, label in choices:
        if isinstance(label, tuple):
            parts.append(f'<optgroup label="{escape(key)}">')
            options, closing = label, "</optgroup>"
        else:
            options, closing = ((key, label),), ""
        for option, text in options:
            sent = "" if option is None else str(option)
            selected = (not found or multiple) and sent in chosen
            found |= selected
            mark = " selected" if selected else ""
            parts.append(f'<option value="{escape(sent)}"{mark}>{escape(text)}</option>')
        parts.append(closing)
    return "".join(parts)


def _listed(choices: Any) -> Iterable[tuple[Any, Any]]:
    """A model choice field's options from one plain read of its records: Django's iterator
    reads them through `QuerySet.iterator()`, a server-side cursor on PostgreSQL (three round
    trips for the CISO's 500 units)."""
    if not isinstance(choices, ModelChoiceIterator):
        return choices
    if isinstance(choices.field, UnitChoiceField):
        return choices.field.options()
    empty = choices.field.empty_label
    return [
        *([("", empty)] if empty is not None else []),
        *(choices.choice(record) for record in list(choices.queryset)),
    ]


class AnyYesNo(WrittenOptions, forms.NullBooleanSelect):
    """Any / Yes / No. "Any" sends an empty value: Django's own reads "Unknown" and sends
    ?name=unknown, which a reader should not have to see or type."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", ANY), ("true", _("Yes")), ("false", _("No"))]

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        # A list, as other selects give: Django marks an option selected when its value is
        # `in` this, and "" is in every string.
        chosen = super().format_value(value)
        return ["" if chosen == "unknown" else chosen]


class CheckboxDropdown(forms.CheckboxSelectMultiple):
    """Several values of one filter: check boxes in a drop-down (<details>, so no script), whose
    summary names what is ticked. The form sends each ticked value under the filter's own name
    (?status=open&status=returned), as a link or another program would write it."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"]["class"] = "form-check-input"  # the boxes, not the list around them
        return option

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        ticked = {str(v) for v in value or []}
        chosen = [str(label) for key, label in self.choices if key != "" and str(key) in ticked]
        return format_html(
            '<details class="rcc-multi" data-testid="multi-{}" data-any="{}">'
            '<summary class="form-select form-select-sm">{}</summary>'
            '<div class="rcc-multi-menu">{}</div></details>',
            name,
            ANY,
            ", ".join(chosen) or ANY,
            self._boxes(name, value, attrs),
        )

    def _boxes(self, name: str, value: Any, attrs: dict[str, Any] | None) -> SafeString:
        """Django's check-box list (its multiple_input template's markup), written here: one
        template include per box cost more than the list's rows."""
        widget = self.get_context(name, value, attrs)["widget"]
        boxes = []
        for group, options, _index in widget["optgroups"]:
            written = format_html_join(
                "",
                '<div>\n    <label{}><input type="{}" name="{}" value="{}"{}> {}</label></div>',
                (
                    (
                        format_html(' for="{}"', option["attrs"]["id"])
                        if option["attrs"].get("id")
                        else "",
                        option["type"],
                        option["name"],
                        str(option["value"]),
                        flatatt(option["attrs"]),
                        option["label"],
                    )
                    for option in options
                ),
            )
            boxes.append(
                format_html("\n  <div><label>{}</label>{}\n  </div>", group, written)
                if group
                else written
            )
        own = widget["attrs"]
        return format_html(
            "<div{}{}>{}\n</div>",
            format_html(' id="{}"', own["id"]) if own.get("id") else "",
            format_html(' class="{}"', own["class"]) if own.get("class") else "",
            mark_safe("".join(boxes)),  # noqa: S308  # nosec B308, B703: each part format_html's
        )


def several(choices: Iterable[tuple[Any, Any]], **kwargs: Any) -> Any:
    """A filter that takes any number of values, OR-ed: ?status=open&status=returned."""
    return django_filters.MultipleChoiceFilter(
        choices=choices, widget=CheckboxDropdown, distinct=False, **kwargs
    )


class UnitChoiceField(ModelChoiceField):
    """A business unit by its code, offered as (code, "code — name") pairs read as plain values:
    the CISO is offered 500 units, and a model instance each cost more than writing them."""

    def options(self) -> list[tuple[str, Any]]:
        units = self.queryset.values_list("code", "name")
        return [
            *([("", self.empty_label)] if self.empty_label is not None else []),
            *((code, BusinessUnit.named(code, name)) for code, name in units),
        ]


class UnitFilter(django_filters.ModelChoiceFilter):
    field_class = UnitChoiceField


def unit_filter(visible: Callable[[Any], QuerySet[Any]], **kwargs: Any) -> Any:
    """?unit=PUBSEC as a drop-down: a unit member is offered the units they have rows of, from
    `visible(user)` (the policy's scope); oversight, who reads every unit, every unit (asking
    which of 500 units have rows among a million took longer than the rest of the filter
    bar). One query, however many rows; a code not offered is an error."""

    def units(request: HttpRequest | None) -> QuerySet[BusinessUnit]:
        if request is None:
            return BusinessUnit.objects.none()
        offered = BusinessUnit.objects.order_by("code").only("code", "name")
        if accounts_policy.reads_everything(request.user):
            return offered
        rows = visible(request.user).order_by().values("unit")
        return offered.filter(pk__in=rows)

    kwargs.setdefault("label", _("Business unit"))
    return UnitFilter(field_name="unit", to_field_name="code", queryset=units, **kwargs)


def dress(field: forms.Field) -> None:
    """Bootstrap's small controls; "Any" as the empty choice of every drop-down; Any/Yes/No for
    a yes-or-no filter; the browser's date picker for a day."""
    if isinstance(field, forms.NullBooleanField) and not isinstance(field.widget, AnyYesNo):
        field.widget = AnyYesNo()
    widget = field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return  # CheckboxDropdown styles its own boxes
    if isinstance(widget, forms.Select):
        widget.attrs["class"] = "form-select form-select-sm"
        if isinstance(field, forms.ChoiceField) and getattr(field, "empty_label", None) is not None:
            field.empty_label = ANY  # type: ignore[attr-defined]
            # The form's copy of a field keeps a widget whose choices still read the empty
            # label of the class's field: hand it this field's own.
            widget.choices = field.choices  # type: ignore[assignment]
        if type(widget) is forms.Select:
            written = WrittenOptions(attrs=widget.attrs, choices=widget.choices)
            written.is_required, written.is_localized = widget.is_required, widget.is_localized
            field.widget = written
        return
    if isinstance(widget, forms.DateInput):
        widget.input_type = "date"
        widget.format = "%Y-%m-%d"  # what a date input reads, whatever the language
    widget.attrs["class"] = "form-control form-control-sm"


class PageFilterSet(django_filters.FilterSet):
    """Put before the API's FilterSet in a page's: `class X(PageFilterSet, ApiFilter)`. Its form
    is dressed (see `dress`) and its fields stand in `order`, the order a reader scans."""

    order: tuple[str, ...] = ()

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form = super().form
            for field in form.fields.values():
                dress(field)
            if self.order:
                form.order_fields(self.order)
        return self._form

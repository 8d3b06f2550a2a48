"""Exact integer amounts (wei) on every database.

Django's DecimalField is exact on PostgreSQL, but SQLite keeps a decimal as INTEGER (64-bit) or
REAL and Django reads it back through a 15-significant-digit context: 0.010000000000000001 ETH
came back as 0.01 ETH, and anything above 9.2 ETH lost its low digits. `WeiField` stores
`numeric(78, 0)` on PostgreSQL (every uint256 fits) and length-prefixed text on SQLite, so that
equality, ordering and range filters stay exact.

Sums: PostgreSQL sums numeric exactly; SQLite would sum text as REAL, so `wei_sum` adds in
Python there. Never call `Sum()` on a WeiField directly.

On SQLite the text is compact and order-preserving (see `sqlite_text`): a length prefix then
the digits, so equality, ordering and range filters compare as numbers.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core import checks, exceptions
from django.db import models

WEI_DIGITS = 78


_DIGITS_OUT = str.maketrans("0123456789", "9876543210")


def sqlite_text(value: int) -> str:
    """How a WeiField value is stored on SQLite: compact text whose order is numeric order.

    "#" + two digits of length + the digits for 0 and up ("#16" + "1000000000000000" for
    10**15); "!" + (99 - length) + the nines' complement of the digits for negative values,
    so that more negative sorts first. "!" < "#", so every negative sorts before every positive.
    """
    if value < 0:
        digits = str(-value)
        return f"!{99 - len(digits):02d}{digits.translate(_DIGITS_OUT)}"
    digits = str(value)
    return f"#{len(digits):02d}{digits}"


def _from_sqlite_text(text: str) -> int:
    if text[:1] == "#":
        return int(text[3:])
    if text[:1] == "!":
        return -int(text[3:].translate(_DIGITS_OUT))
    return parse_wei(text)  # rows written before this encoding: plain or zero-padded digits


def wei_from_db(value) -> int | None:
    """A WeiField's value as any database returns it (SQLite's text, PostgreSQL's numeric): for
    rows read without the ORM's converters."""
    if value is None:
        return None
    if isinstance(value, str):
        return _from_sqlite_text(value)
    return parse_wei(value)


def parse_wei(value) -> int:
    """An int from what a database, a form or JSON hands over; never through a float."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"{value} is not a whole number of wei")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise ValueError(f"{value!r} is not an amount in wei")
            return parse_wei(number)
    raise TypeError(f"{type(value).__name__} is not an amount in wei (floats are never accepted)")


class WeiField(models.Field):
    description = "An exact integer amount in wei (up to 78 digits)"
    empty_strings_allowed = False
    default_error_messages = {"invalid": "“%(value)s” is not a whole number of wei."}

    def get_internal_type(self):
        return "WeiField"

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "text"
        return f"numeric({WEI_DIGITS}, 0)"

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_default()]

    def _check_default(self):
        if isinstance(self.default, float):
            return [checks.Error("WeiField defaults must be integers, never floats.", obj=self)]
        return []

    def from_db_value(self, value, expression, connection):
        return wei_from_db(value)

    def to_python(self, value):
        if value is None:
            return None
        try:
            return parse_wei(value)
        except (TypeError, ValueError):
            raise exceptions.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            )

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return parse_wei(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return sqlite_text(value)
        return Decimal(value)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.IntegerField, **kwargs})


def wei_sum(queryset, field: str) -> int:
    """The exact sum of a WeiField over a queryset, on any database."""
    from django.db import connections
    from django.db.models import Sum

    if connections[queryset.db].vendor == "sqlite":
        return sum(v for v in queryset.values_list(field, flat=True) if v is not None)
    total = queryset.aggregate(total=Sum(field, output_field=WeiField()))["total"]
    return int(total or 0)


def rewrite_wei_columns(model_fields: dict[str, list[str]]):
    """A RunPython for migrations that turn a DecimalField into a WeiField: rewrites every
    value through the field, so SQLite rows copied as INTEGER/REAL become exact padded text."""

    def run(apps, schema_editor):
        for label, fields in model_fields.items():
            model = apps.get_model(label)
            for row in model.objects.all().only("pk", *fields).iterator():
                model.objects.filter(pk=row.pk).update(**{f: getattr(row, f) for f in fields})

    return run

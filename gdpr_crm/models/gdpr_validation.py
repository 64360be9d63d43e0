# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One validation layer for the addon's models.

``gdpr.validation.mixin`` checks the values given to ``create`` and ``write``
(types, ranges, lengths, selection values, existing records) and offers the
``_gdpr_*_arg`` helpers that the public methods use on their arguments. Each
problem is a translated ``ValidationError``/``UserError`` saying what to do,
raised before anything is written: never an ``AttributeError``,
``TypeError``, ``ValueError`` or a database error.

:func:`validated` puts the layer in front of a model: its ``create`` and
``write`` validate before the model's own code runs (whatever that code
does with the values). Every ``gdpr.*`` model a user can create or write is
listed in ``VALIDATED_MODELS`` (models) or in ``wizards/gdpr_validation.py``
(wizards); the fuzz test checks that none is forgotten.
"""

import base64
import datetime

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..lib import validation as bounds

# (model, field): (minimum, maximum) of an integer field
FIELD_BOUNDS = {
    ("gdpr.purpose", "sequence"): (-bounds.MAX_INT, bounds.MAX_INT),
}
# (model, field): the longest text accepted, where the default does not fit
FIELD_LENGTHS = {
    ("gdpr.consent", "user_agent"): 512,
    ("gdpr.consent", "ip_address"): 64,
    ("gdpr.consent", "proof_version"): bounds.MAX_NAME,
}


class GdprValidationMixin(models.AbstractModel):
    _name = "gdpr.validation.mixin"
    _description = "Input Validation"

    # ------------------------------------------------------------------
    # Values of create and write
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_validate_vals_list(self, vals_list, create=False):
        """Raise a clear error when a value of ``vals_list`` is not acceptable
        (or, with ``create``, when a required value is missing)."""
        if not isinstance(vals_list, list | tuple) or not all(isinstance(vals, dict) for vals in vals_list):
            raise UserError(self.env._("The values to save must be given as a dictionary of field values."))
        by_comodel = {}
        required = [
            name
            for name, field in self._fields.items()
            if field.required
            and field.store
            and not field.compute
            and field.default is None
            and field.type != "boolean"
        ]
        for vals in vals_list:
            if create:
                for name in required:
                    if name not in vals and f"default_{name}" not in self.env.context:
                        raise ValidationError(
                            self.env._(
                                "%(field)s is required: fill it in.", field=self._gdpr_field_label(self._fields[name])
                            )
                        )
            for name, value in vals.items():
                if not isinstance(name, str):
                    # the private marker of a model's own internal writes (a
                    # module-level object: no RPC client can send it)
                    continue
                field = self._fields.get(name)
                if field is None:
                    raise ValidationError(
                        self.env._(
                            "'%(field)s' is not a field of %(model)s: remove it.",
                            field=str(name)[:64],
                            model=self._description,
                        )
                    )
                record_id = self._gdpr_check_value(field, value)
                if record_id:
                    by_comodel.setdefault((field.comodel_name, field), set()).add(record_id)
        for (comodel, field), ids in by_comodel.items():
            found = self.env[comodel].sudo().with_context(active_test=False).browse(ids).exists()
            if len(found) != len(ids):
                raise ValidationError(
                    self.env._(
                        "The %(field)s chosen does not exist (any more): choose another one.",
                        field=self._gdpr_field_label(field),
                    )
                )

    def _gdpr_field_label(self, field):
        return field._description_string(self.env) or field.name

    def _gdpr_check_value(self, field, value):
        """Check one value; return the id of the record it points to, if any."""
        label = self._gdpr_field_label(field)
        kind = field.type
        empty = value is False or value is None
        if empty and field.required and kind != "boolean":
            raise ValidationError(self.env._("%(field)s is required: fill it in.", field=label))
        if kind in ("char", "text", "html"):
            if empty:
                return None
            limit = {"text": bounds.MAX_TEXT, "html": bounds.MAX_HTML}.get(kind) or bounds.max_char_length(
                field.name, field.size
            )
            self._gdpr_text_arg(value, label, FIELD_LENGTHS.get((self._name, field.name), limit))
        elif kind == "integer":
            if empty:
                return None
            low, high = FIELD_BOUNDS.get((self._name, field.name), (-bounds.MAX_INT, bounds.MAX_INT))
            self._gdpr_int_arg(value, label, low, high)
        elif kind in ("float", "monetary"):
            if not empty and not bounds.is_number(value):
                raise ValidationError(self.env._("%(field)s must be a number.", field=label))
        elif kind == "boolean":
            if not (empty or isinstance(value, bool) or value in (0, 1)):
                raise ValidationError(self.env._("%(field)s must be true or false.", field=label))
        elif kind in ("date", "datetime"):
            if not empty:
                self._gdpr_date_arg(value, label, datetime_=kind == "datetime")
        elif kind == "selection":
            if not empty:
                self._gdpr_selection_arg(value, label, field)
        elif kind == "many2one":
            if empty:
                return None
            if isinstance(value, models.BaseModel) and value._name == field.comodel_name and len(value) <= 1:
                return value.id or None
            self._gdpr_int_arg(value, label, 1, bounds.MAX_INT)
            return value
        elif kind in ("one2many", "many2many"):
            if not (empty or self._gdpr_is_commands(value)):
                raise ValidationError(self.env._("%(field)s must be a list of records (ids or commands).", field=label))
        elif kind == "binary":
            if not empty:
                try:
                    # a file is sent encoded in base64
                    base64.b64decode(value, validate=True)
                except (TypeError, ValueError) as error:
                    raise ValidationError(self.env._("%(field)s must be a file.", field=label)) from error
        return None

    @api.model
    def _gdpr_is_commands(self, value):
        if isinstance(value, models.BaseModel):
            return True
        if not isinstance(value, list | tuple):
            return False
        for item in value:
            if bounds.is_int(item):
                continue
            if not (isinstance(item, list | tuple) and item and bounds.is_int(item[0]) and 0 <= item[0] <= 6):
                return False
        return True

    # ------------------------------------------------------------------
    # Arguments of the public methods
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_text_arg(self, value, label, max_length=bounds.MAX_TEXT, required=False):
        """A text: a string no longer than ``max_length``; stripped when required."""
        if value is None or value is False:
            value = ""
        if not isinstance(value, str):
            raise ValidationError(self.env._("%(field)s must be a text.", field=label))
        if "\x00" in value:
            raise ValidationError(self.env._("%(field)s contains a null character: remove it.", field=label))
        if len(value) > max_length:
            raise ValidationError(
                self.env._(
                    "%(field)s is too long (%(length)s characters): shorten it to %(max)s characters at most.",
                    field=label,
                    length=len(value),
                    max=max_length,
                )
            )
        if required and not value.strip():
            raise UserError(self.env._("%(field)s is required: fill it in.", field=label))
        return value

    @api.model
    def _gdpr_int_arg(self, value, label, low=-bounds.MAX_INT, high=bounds.MAX_INT):
        if not bounds.is_int(value):
            raise ValidationError(self.env._("%(field)s must be a whole number.", field=label))
        if not low <= value <= high:
            raise ValidationError(
                self.env._(
                    "%(field)s must be between %(min)s and %(max)s: %(value)s is out of range.",
                    field=label,
                    min=low,
                    max=high,
                    value=value,
                )
            )
        return value

    @api.model
    def _gdpr_date_arg(self, value, label, datetime_=True):
        """A date (or datetime) between 1970 and ``MAX_YEARS_AHEAD`` years from now."""
        converter = fields.Datetime.to_datetime if datetime_ else fields.Date.to_date
        try:
            if not isinstance(value, str | datetime.date):
                raise TypeError(value)
            parsed = converter(value)
        except (TypeError, ValueError, OverflowError):
            parsed = None
        if not parsed:
            raise ValidationError(self.env._("%(field)s is not a valid date: enter one like 2026-01-31.", field=label))
        day = parsed.date() if isinstance(parsed, datetime.datetime) else parsed
        today = fields.Date.today()
        if not bounds.MIN_DATE <= day <= bounds.max_date(today):
            raise ValidationError(
                self.env._(
                    "%(field)s must be between %(min)s and %(max)s: check the year.",
                    field=label,
                    min=bounds.MIN_DATE,
                    max=bounds.max_date(today),
                )
            )
        return parsed

    @api.model
    def _gdpr_selection_arg(self, value, label, field=None, values=None):
        """One of the keys of ``field``'s selection (or of ``values``)."""
        keys = values if values is not None else [key for key, _label in field._description_selection(self.env)]
        if not isinstance(value, str) or value not in keys:
            raise ValidationError(
                self.env._(
                    "'%(value)s' is not a valid %(field)s: choose one of %(values)s.",
                    value=str(value)[:64],
                    field=label,
                    values=", ".join(map(str, keys)),
                )
            )
        return value

    @api.model
    def _gdpr_record_arg(self, value, model, label):
        """A record of ``model`` (or nothing); ids are accepted too."""
        if value is None or value is False:
            return self.env[model]
        if isinstance(value, models.BaseModel) and value._name == model:
            return value
        if bounds.is_int(value) and 0 < value <= bounds.MAX_INT:
            return self.env[model].browse(value)
        raise ValidationError(self.env._("%(field)s must be a record.", field=label))

    def ensure_one(self):
        """Like Odoo's, with a message for the user rather than a ValueError."""
        if len(self) != 1:
            raise UserError(
                self.env._(
                    "This action works on one record at a time: select exactly one %(model)s.", model=self._description
                )
            )
        return self


def validated(model_name, base=models.Model):
    """Put the validation layer in front of ``model_name`` (a model of ``base``'s kind).

    The class returned comes first in the model's method resolution order,
    so that ``create`` and ``write`` validate before the model's own code.
    """

    class Validated(base):
        _name = model_name
        _inherit = [model_name, "gdpr.validation.mixin"]

        @api.model_create_multi
        def create(self, vals_list):
            # who may not create is told so, not what is wrong with the values
            self.browse().check_access("create")
            self._gdpr_validate_vals_list(vals_list, create=True)
            return super().create(vals_list)

        def write(self, vals):
            self.check_access("write")
            self._gdpr_validate_vals_list([vals])
            return super().write(vals)

    return Validated


VALIDATED_MODELS = (
    "gdpr.purpose",
    "gdpr.processing.activity",
    "gdpr.request",
    "gdpr.consent",
    "gdpr.processor",
    "gdpr.breach",
    "gdpr.data.category",
    "gdpr.subject.category",
    "gdpr.security.measure",
    "gdpr.legal.hold",
    "gdpr.personal.field",
    "gdpr.retention.policy",
    "gdpr.field.inventory",
    "gdpr.sensitive.finding",
)
for _model_name in VALIDATED_MODELS:
    validated(_model_name)

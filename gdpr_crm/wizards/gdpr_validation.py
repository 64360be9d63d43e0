# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The validation layer (models/gdpr_validation.py) in front of the wizards."""

from odoo import models

from ..models.gdpr_validation import validated

VALIDATED_WIZARDS = (
    "gdpr.consent.record",
    "gdpr.request.report",
    "gdpr.request.execute",
    "gdpr.request.execute.line",
    "gdpr.request.reject",
    "gdpr.request.extend",
    "gdpr.user.archive",
    "gdpr.breach.notice",
    "gdpr.request.rectify",
    "gdpr.sensitive.guidance",
)
for _model_name in VALIDATED_WIZARDS:
    validated(_model_name, models.TransientModel)

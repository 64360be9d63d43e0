"""Pure Python helpers of gdpr_crm: no Odoo import, unit-testable alone."""

from . import gdpr_consent_record
from . import base_partner_merge_automatic_wizard

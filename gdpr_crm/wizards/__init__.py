from . import gdpr_consent_record

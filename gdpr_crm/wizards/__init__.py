from . import gdpr_request_execute
from . import gdpr_request_extend
from . import gdpr_request_reject
from . import gdpr_request_report
from . import gdpr_consent_record
from . import base_partner_merge_automatic_wizard
from . import gdpr_user_archive
from . import gdpr_validation

from . import gdpr_audit_log
from . import gdpr_processing_activity
from . import gdpr_purpose
from . import res_company
from . import res_config_settings
from . import gdpr_request
from . import res_partner
from . import crm_lead

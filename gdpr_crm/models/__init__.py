from . import gdpr_audit_log
from . import gdpr_processing_activity
from . import gdpr_purpose
from . import res_company
from . import res_config_settings

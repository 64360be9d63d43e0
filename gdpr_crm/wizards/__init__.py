from . import gdpr_request_execute
from . import gdpr_request_extend
from . import gdpr_request_reject
from . import gdpr_request_report

from . import test_i18n
from . import test_purpose
from . import test_security_groups
from . import test_audit_log
from . import test_access
from . import test_audit_http

from . import test_i18n
from . import test_purpose
from . import test_security_groups
from . import test_tour_purpose
from . import test_request
from . import test_consent
from . import test_consent_http

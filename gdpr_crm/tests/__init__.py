from . import test_i18n
from . import test_purpose
from . import test_security_groups
from . import test_personal_data

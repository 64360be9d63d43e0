from . import controllers
from . import lib
from . import models
from . import wizards
from .hooks import uninstall_hook

from .lib.log_masking import install as _install_log_masking

# The secret tokens of the public links (consent, preferences, download) never
# reach the server log.
_install_log_masking()

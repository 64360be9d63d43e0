from . import download
from . import main
from . import session

from . import download
from . import main
from . import session
from . import rpc

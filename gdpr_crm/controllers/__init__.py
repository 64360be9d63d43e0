from . import download
from . import main

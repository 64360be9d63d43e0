from . import gdpr_user_archive

# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def uninstall_hook(env):
    """Drop what gdpr_crm created in other modules' tables: the indexes of
    the personal-data engine (its own tables go with their indexes)."""
    env["gdpr.personal.data"]._gdpr_drop_indexes()

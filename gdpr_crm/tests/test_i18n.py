# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import TranslationModuleReader


@tagged("post_install", "-at_install", "gdpr_crm")
class TestFrenchTranslation(TransactionCase):
    def test_fr_po_covers_every_term(self):
        """Every term the addon shows (code, views, data) has a French translation."""
        po = polib.pofile(file_path("gdpr_crm/i18n/fr.po"))
        translated = {entry.msgid for entry in po if entry.msgstr and "fuzzy" not in entry.flags}
        reader = TranslationModuleReader(self.env.cr, modules=["gdpr_crm"])
        terms = {source for module, _type, _name, _res_id, source, _value, _comments in reader if module == "gdpr_crm"}
        self.assertGreater(len(terms), 50)
        missing = sorted(terms - translated)
        self.assertFalse(
            missing,
            "Terms without a French translation in gdpr_crm/i18n/fr.po (run ./scripts/i18n):\n%s" % "\n".join(missing),
        )

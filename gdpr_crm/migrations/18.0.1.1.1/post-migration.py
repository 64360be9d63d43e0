# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Correct the shipped data of existing databases (noupdate records):

- a processing activity meeting fewer than two DPIA criteria shows the DPIA
  as "Not required" rather than "To do" (the new entry "Marketing based on
  consent", created by the update, takes over the consent-based purposes the
  "Prospecting" entry listed);
- the notice of a breach to the data subjects no longer copies the internal
  description of the breach: its sections are written by the DPO.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE gdpr_processing_activity
           SET dpia_state = 'not_required'
         WHERE dpia_required IS NOT TRUE
           AND (dpia_state = 'todo' OR dpia_state IS NULL)
        """
    )
    env = api.Environment(cr, SUPERUSER_ID, {})
    template = env.ref("gdpr_crm.mail_template_gdpr_breach_subjects", raise_if_not_found=False)
    if template and template.template_fs and "object.description" in (template.body_html or ""):
        template.reset_template()

#!/usr/bin/env python3
"""Merge gdpr_crm/i18n/gdpr_crm.pot into every .po file of the addon.

Run `./scripts/i18n` (which exports the .pot from a database first) rather
than this file. Translations already made are kept, new terms are added with
an empty translation, terms that left the code are dropped. With --fill
FILE.json ({"msgid": "msgstr"}), empty translations are filled from FILE.
Prints the terms still untranslated and exits 1 when there are any.
"""

import json
import pathlib
import sys

import polib

ADDON = pathlib.Path(__file__).resolve().parent.parent / "gdpr_crm"


def merge(pot_path, po_path, fill):
    pot = polib.pofile(str(pot_path))
    old = polib.pofile(str(po_path)) if po_path.exists() else polib.POFile()
    known = {(e.msgctxt, e.msgid): e.msgstr for e in old if e.msgstr}
    po = polib.POFile(wrapwidth=78)
    po.metadata = dict(pot.metadata)
    po.metadata["Language"] = po_path.stem
    po.metadata["Plural-Forms"] = "nplurals=2; plural=(n > 1);" if po_path.stem == "fr" else ""
    po.header = pot.header
    missing = []
    for entry in pot:
        msgstr = known.get((entry.msgctxt, entry.msgid)) or fill.get(entry.msgid, "")
        po.append(
            polib.POEntry(
                msgid=entry.msgid,
                msgctxt=entry.msgctxt,
                msgstr=msgstr,
                occurrences=entry.occurrences,
                comment=entry.comment,
                tcomment=entry.tcomment,
                flags=entry.flags,
            )
        )
        if not msgstr:
            missing.append(entry.msgid)
    po.save(str(po_path))
    return missing


def main(argv):
    fill = {}
    if len(argv) > 2 and argv[1] == "--fill":
        fill = json.loads(pathlib.Path(argv[2]).read_text(encoding="utf-8"))
    pot_path = ADDON / "i18n" / "gdpr_crm.pot"
    status = 0
    for po_path in sorted((ADDON / "i18n").glob("*.po")) or [ADDON / "i18n" / "fr.po"]:
        missing = merge(pot_path, po_path, fill)
        for msgid in missing:
            print(f"{po_path.name}: untranslated: {msgid!r}")
        status = status or bool(missing)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))

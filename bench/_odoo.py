# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Find Odoo for the bench scripts, the way ./scripts/setup.sh does.

``ODOO_HOME`` (the Odoo 18.0 source tree holding odoo-bin) comes from the
environment, else from ``$GDPR_CRM_HOME/setup.env`` (default
``~/.local/share/gdpr_crm/setup.env``) written by ./scripts/setup.sh.
"""

import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def odoo_home():
    home = os.environ.get("ODOO_HOME")
    if not home:
        data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        state = Path(os.environ.get("GDPR_CRM_HOME") or Path(data) / "gdpr_crm") / "setup.env"
        if state.exists():
            match = re.search(r"^SAVED_ODOO_HOME=(.*)$", state.read_text(), re.MULTILINE)
            if match:
                home = match.group(1).strip().strip("'\"")
    if not home or not (Path(home) / "odoo-bin").exists():
        sys.exit("Odoo not found: run ./scripts/setup.sh (./scripts/test) once, or set ODOO_HOME.")
    return home


def import_odoo():
    home = odoo_home()
    if home not in sys.path:
        sys.path.insert(0, home)
    import odoo

    return odoo


def open_registry(db, conf=None, extra_paths=()):
    """Return Odoo's registry of ``db`` with gdpr_crm's addons path (and
    ``extra_paths``, folders of other addons a benchmark compares with)."""
    odoo = import_odoo()
    args = ["-d", db, "--log-level=warn"]
    if conf:
        args += ["-c", conf]
    odoo.tools.config.parse_config(args)
    home = odoo_home()
    paths = [str(REPO), os.path.join(home, "odoo", "addons")]
    if os.path.isdir(os.path.join(home, "addons")):
        paths.append(os.path.join(home, "addons"))
    paths += [os.path.abspath(p) for p in extra_paths]
    odoo.tools.config["addons_path"] = ",".join(paths)
    odoo.modules.module.initialize_sys_path()
    return odoo.modules.registry.Registry(db)

# shellcheck shell=bash
# Set-up shared by ./scripts/run and ./scripts/test. Sourced, not run.
#
# Everything it makes lives outside the clone, in $GDPR_CRM_HOME
# (default: ~/.local/share/gdpr_crm): the virtual environment, a downloaded
# Odoo when ODOO_HOME is not given, the Odoo configuration, logs, and
# setup.env, which records the choices so that later runs (and CI) find Odoo
# again with no variable set. Every step is idempotent.
#
# Variables (all optional):
#   ODOO_HOME        an Odoo 18.0 source tree (the folder holding odoo-bin)
#   GDPR_CRM_HOME    where the set-up keeps its files
#   GDPR_CRM_VENV    the virtual environment (default $GDPR_CRM_HOME/venv)
#   PYTHON           the Python 3.10-3.12 interpreter to build it with

set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GDPR_CRM_HOME=${GDPR_CRM_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/gdpr_crm}
STATE_FILE=$GDPR_CRM_HOME/setup.env
ODOO_GIT_URL=https://github.com/odoo/odoo.git
ODOO_TARBALL_URL=https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz

say() { printf '[gdpr_crm] %s\n' "$*" >&2; }
die() {
    printf '[gdpr_crm] ERROR: %s\n' "$*" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "'$*' needs root rights and sudo is not installed: run it as root once, then retry."
    fi
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

APT_UPDATED=
apt_install() {
    # Installs the Debian/Ubuntu packages among "$@" that are missing.
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null ||
        die "missing system packages (${missing[*]}) and no apt-get: install them with your system's package manager."
    say "installing system packages: ${missing[*]}"
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

load_state() {
    if [ -f "$STATE_FILE" ]; then
        # shellcheck disable=SC1090
        . "$STATE_FILE"
    fi
}

save_state() {
    mkdir -p "$GDPR_CRM_HOME"
    {
        printf '# Written by gdpr_crm/scripts/setup.sh; delete to choose again.\n'
        printf 'SAVED_ODOO_HOME=%q\n' "$ODOO_HOME"
        printf 'SAVED_VENV=%q\n' "$VENV"
    } >"$STATE_FILE"
}

is_odoo18() {
    [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] &&
        grep -Eq '^version_info = \(18, 0,' "$1/odoo/release.py"
}

ensure_system_packages() {
    # Build tools for the few requirements without wheels (psycopg2), and
    # wkhtmltopdf for the QWeb PDF reports, poppler-utils (pdftotext) for the
    # tests that read them.
    if command -v dpkg-query >/dev/null; then
        apt_install gcc python3-dev python3-venv libpq-dev wkhtmltopdf poppler-utils
    fi
}

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null && ! command -v pg_ctl >/dev/null; then
        apt_install postgresql
    fi
    if command -v pg_lsclusters >/dev/null; then
        if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
            local version
            version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -1)
            say "creating PostgreSQL cluster $version/main"
            as_root pg_createcluster "$version" main >/dev/null
        fi
        local version name _port status
        while read -r version name _port status _rest; do
            if [ "$status" != online ]; then
                say "starting PostgreSQL $version/$name"
                as_root pg_ctlcluster "$version" "$name" start
            fi
        done < <(pg_lsclusters -h)
    fi
    local tries=0
    until pg_isready -q 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -lt 30 ] || die "PostgreSQL does not answer on its socket: start it (pg_ctlcluster 15 main start) and retry."
        sleep 1
    done
    local me
    me=$(id -un)
    if ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
        say "creating PostgreSQL superuser role '$me'"
        as_postgres createuser --superuser "$me"
    fi
}

ensure_odoo() {
    load_state
    if [ -n "${ODOO_HOME:-}" ]; then
        ODOO_HOME=$(cd "$ODOO_HOME" 2>/dev/null && pwd) ||
            die "ODOO_HOME=$ODOO_HOME does not exist: point it at an Odoo 18.0 source tree (the folder holding odoo-bin)."
        is_odoo18 "$ODOO_HOME" ||
            die "ODOO_HOME=$ODOO_HOME is not an Odoo 18.0 source tree: it needs odoo-bin and odoo/release.py of version 18.0."
    elif [ -n "${SAVED_ODOO_HOME:-}" ] && is_odoo18 "$SAVED_ODOO_HOME"; then
        ODOO_HOME=$SAVED_ODOO_HOME
    else
        ODOO_HOME=$GDPR_CRM_HOME/odoo-18.0
        if ! is_odoo18 "$ODOO_HOME"; then
            say "downloading Odoo 18.0 Community into $ODOO_HOME (set ODOO_HOME to use a tree you have)"
            rm -rf "$ODOO_HOME.part"
            mkdir -p "$GDPR_CRM_HOME"
            if command -v git >/dev/null &&
                git clone -q --depth 1 -b 18.0 "$ODOO_GIT_URL" "$ODOO_HOME.part" 2>/dev/null; then
                :
            else
                rm -rf "$ODOO_HOME.part"
                mkdir -p "$ODOO_HOME.part"
                command -v curl >/dev/null || apt_install curl ca-certificates
                { curl -fsSL "$ODOO_TARBALL_URL" | tar -xz -C "$ODOO_HOME.part" --strip-components=1; } 2>/dev/null ||
                    die "Odoo 18.0 could not be downloaded (neither the git repository nor the nightly source archive): set ODOO_HOME to an Odoo 18.0 source tree and retry."
            fi
            is_odoo18 "$ODOO_HOME.part" || die "the downloaded Odoo is not 18.0: set ODOO_HOME to an Odoo 18.0 source tree and retry."
            rm -rf "$ODOO_HOME"
            mv "$ODOO_HOME.part" "$ODOO_HOME"
        fi
    fi
    ADDONS_PATH=$REPO_DIR
    [ -d "$ODOO_HOME/addons" ] && ADDONS_PATH=$ADDONS_PATH,$ODOO_HOME/addons
    ADDONS_PATH=$ADDONS_PATH,$ODOO_HOME/odoo/addons
}

pick_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3.12 python3.10 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    VENV=${GDPR_CRM_VENV:-${SAVED_VENV:-$GDPR_CRM_HOME/venv}}
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python=$(pick_python) || die "Odoo 18 needs Python 3.10, 3.11 or 3.12 and none was found: install one (or set PYTHON) and retry."
        say "creating the virtual environment $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    local stamp
    stamp=$(cat "$REPO_DIR/requirements.txt" "$REPO_DIR/scripts/build-constraints.txt" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$VENV/.gdpr_crm-requirements" 2>/dev/null)" != "$stamp" ]; then
        say "installing the Python requirements into $VENV"
        # The build constraints reach the isolated build environments too.
        PIP_CONSTRAINT=$REPO_DIR/scripts/build-constraints.txt \
            "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO_DIR/requirements.txt" ||
            die "the Python requirements did not install (see pip's message above)."
        echo "$stamp" >"$VENV/.gdpr_crm-requirements"
    fi
}

write_odoo_conf() {
    ODOO_CONF=$GDPR_CRM_HOME/odoo.conf
    local admin_passwd gdpr_secret gdpr_old_secrets
    admin_passwd=$(sed -n 's/^admin_passwd = //p' "$ODOO_CONF" 2>/dev/null || true)
    [ -n "$admin_passwd" ] || admin_passwd=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))')
    # gdpr_crm's master secret: every key of the addon derives from it (see
    # README, "Keys"). Generated once, kept across runs like admin_passwd:
    # losing it makes the audit log and the consent history unverifiable.
    gdpr_secret=$(sed -n 's/^gdpr_crm_secret = //p' "$ODOO_CONF" 2>/dev/null || true)
    [ -n "$gdpr_secret" ] || gdpr_secret=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
    gdpr_old_secrets=$(sed -n 's/^gdpr_crm_old_secrets = //p' "$ODOO_CONF" 2>/dev/null || true)
    cat >"$ODOO_CONF" <<CONF
; Written by gdpr_crm/scripts/setup.sh at every run.
[options]
addons_path = $ADDONS_PATH
data_dir = $GDPR_CRM_HOME/data
admin_passwd = $admin_passwd
gdpr_crm_secret = $gdpr_secret
gdpr_crm_old_secrets = $gdpr_old_secrets
db_host = False
db_port = False
CONF
    chmod 600 "$ODOO_CONF"
}

odoo() {
    "$VENV/bin/python" "$ODOO_HOME/odoo-bin" -c "$ODOO_CONF" "$@"
}

setup_all() {
    mkdir -p "$GDPR_CRM_HOME"
    ensure_system_packages
    ensure_postgres
    ensure_odoo
    ensure_venv
    save_state
    write_odoo_conf
    say "Odoo: $ODOO_HOME"
    say "virtual environment: $VENV"
}

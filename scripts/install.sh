#!/usr/bin/env bash
# Install what halocheck's tests need: MariaDB and PostgreSQL (server and
# client) from Debian packages, and check that a Rust toolchain is present.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PACKAGES=(mariadb-server mariadb-client postgresql postgresql-client)

log() { printf 'install.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- packages --

# True when the Debian package is fully installed.
pkg_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == "install ok installed" ]]
}

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        pkg_installed "$p" || printf '%s\n' "$p"
    done
}

# True while an apt-get / apt / dpkg / unattended-upgrades process runs.
# (Reads /proc directly: procps may not be installed on a minimal system.)
apt_busy() {
    local f comm
    for f in /proc/[0-9]*/comm; do
        { read -r comm <"$f"; } 2>/dev/null || continue
        case $comm in
            apt-get | apt | dpkg | unattended-upgr*) return 0 ;;
        esac
    done
    return 1
}

# Wait (up to 20 minutes) while another apt-get / dpkg run is in progress,
# e.g. one started in the background, instead of fighting over the locks.
wait_for_other_apt() {
    local waited=0 announced=0
    while apt_busy; do
        if (( !announced )); then
            log "another apt-get/dpkg is running; waiting for it to finish..."
            announced=1
        fi
        if (( waited >= 1200 )); then
            die "apt-get/dpkg still busy after ${waited}s; try again later"
        fi
        sleep 5
        waited=$((waited + 5))
    done
}

install_packages() {
    local -a sudo=() missing
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        # Not Debian-like: just check that the programs we use exist.
        local prog
        for prog in mariadbd mariadb-install-db initdb pg_ctl psql; do
            if ! command -v "$prog" >/dev/null 2>&1 \
                && ! compgen -G "/usr/lib/postgresql/*/bin/$prog" >/dev/null \
                && [[ ! -x /usr/sbin/$prog ]]; then
                die "no apt-get on this system and '$prog' not found; install MariaDB and PostgreSQL (server and client) yourself"
            fi
        done
        return 0
    fi

    wait_for_other_apt
    mapfile -t missing < <(missing_packages)
    if (( ${#missing[@]} == 0 )); then
        log "MariaDB and PostgreSQL packages already installed"
        return 0
    fi

    if (( EUID != 0 )); then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            die "missing packages: ${missing[*]}; not root and no sudo. Run as root: apt-get install ${missing[*]}"
        fi
    fi

    # Finish an interrupted earlier dpkg run first, or apt-get refuses to work.
    if [[ -n $(dpkg --audit 2>/dev/null) ]]; then
        log "finishing an interrupted dpkg run (dpkg --configure -a)"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --configure -a >&2 || true
    fi

    log "installing: ${missing[*]}"
    local out
    out=$(mktemp)
    # shellcheck disable=SC2064
    trap "rm -f '$out'" EXIT
    local -a apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get
                  -o DPkg::Lock::Timeout=600 -q -y)
    if ! "${apt[@]}" update >"$out" 2>&1; then
        cat "$out" >&2
        die "apt-get update failed"
    fi
    # The packages' maintainer scripts try to start the system services; that
    # may fail without systemd (or be refused by policy-rc.d), which is fine:
    # our test servers never use the system instances.
    if ! "${apt[@]}" install "${missing[@]}" >"$out" 2>&1; then
        cat "$out" >&2
        die "apt-get install ${missing[*]} failed"
    fi
    mapfile -t missing < <(missing_packages)
    if (( ${#missing[@]} != 0 )); then
        tail -n 30 "$out" >&2
        die "packages still not fully installed after apt-get: ${missing[*]}"
    fi
    log "installed"
}

# ------------------------------------------------------------------- cargo --

check_cargo() {
    if command -v cargo >/dev/null 2>&1; then
        return 0
    fi
    local c="${CARGO_HOME:-$HOME/.cargo}/bin/cargo"
    if [[ -x $c ]]; then
        log "note: cargo is at $c but not on PATH (scripts/test.sh adds it)"
        return 0
    fi
    die "cargo not found: install a Rust toolchain (https://rustup.rs) and make sure cargo is on PATH"
}

install_packages
check_cargo

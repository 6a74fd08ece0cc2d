#!/usr/bin/env bash
# One command on a fresh machine: install MariaDB, PostgreSQL and the build,
# start throw-away servers, and run the compatibility corpus. The reference is
# MariaDB; the target is OpenHalo when HALOCHECK_OPENHALO_HOME (or
# [sandbox] openhalo_home in halocheck.toml) points at an installation,
# otherwise plain PostgreSQL as a clearly labelled baseline.
# Extra arguments go to `halocheck run`.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash scripts/install.sh
cargo build --release --quiet
# A completed run whose score is low is still a success here; only a broken
# run (exit 2) fails the quick start.
set +e
target/release/halocheck run slt "$@"
rc=$?
set -e
if (( rc == 2 )); then
    exit 2
fi
exit 0

#!/usr/bin/env bash
# The project's one test command (CI runs it through .ci/run): installs what
# is missing, starts throw-away MariaDB and PostgreSQL servers with
# `halocheck sandbox`, and runs the tests against them.
# Extra arguments go to `cargo test`, e.g.  bash scripts/test.sh -- --nocapture
# The servers stay up for the next run; stop them with
#   target/debug/halocheck sandbox down --sandbox-dir "$HALOCHECK_TEST_SANDBOX"
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash scripts/install.sh
cargo build --quiet
export HALOCHECK_TEST_SANDBOX="${HALOCHECK_TEST_SANDBOX:-${TMPDIR:-/tmp}/halocheck-test-sandbox}"
target/debug/halocheck sandbox up mariadb postgresql --sandbox-dir "$HALOCHECK_TEST_SANDBOX"

set +e
cargo test "$@" 2>&1
rc=$?
set -e
exit "$rc"

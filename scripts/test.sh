#!/usr/bin/env bash
# The project's one test command (also used by CI via .ci/run):
# installs dependencies, starts the throw-away test databases, runs the tests.
# Extra arguments are passed to `cargo test`, e.g.  scripts/test.sh -- --nocapture
# The test servers are left running afterwards (stop: scripts/test-servers.sh stop).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# rustup installs cargo here; CI shells do not always have it on PATH.
if ! command -v cargo >/dev/null 2>&1; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    export PATH
fi

bash scripts/install.sh
bash scripts/test-servers.sh start
eval "$(bash scripts/test-servers.sh env)"
export HALOCHECK_TEST_MYSQL_URL HALOCHECK_TEST_PG_URL

set +e
cargo test --all-targets "$@" 2>&1
rc=$?
set -e
exit "$rc"

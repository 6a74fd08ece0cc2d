# Shared by the scripts: run from the repository root, with cargo on PATH.
# shellcheck shell=bash
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
# rustup installs cargo here; CI shells do not always have it on PATH.
if ! command -v cargo >/dev/null 2>&1; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    export PATH
fi

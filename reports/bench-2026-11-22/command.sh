#!/usr/bin/env bash
# How reports/bench-2026-11-22 was made (commit in README.md of this directory).
set -euo pipefail
HALOCHECK_OPENHALO_HOME=/opt/openhalo target/release/halocheck sandbox up mariadb postgresql openhalo \
    --profile bench --sandbox-dir /tmp/halocheck-bench-sandbox
target/release/halocheck bench --sandbox-dir /tmp/halocheck-bench-sandbox \
    --no-auto-inc --workload point_select,read_write --mode text \
    --threads 1,4,16 --table-size 10000,1000000 --repeat 2 --warmup 2 --duration 8 --floor \
    --note "OpenHalo 1.0.14.18 built without aux_mysql 1.4 (extension 1.3); its AUTO_INCREMENT fails, so every engine uses --no-auto-inc" \
    --note "2-core VM shared with other jobs building Rust at the same time: short runs, orders of magnitude only" \
    --out reports/bench-2026-11-22

#!/bin/sh
# How reports/bench-corpus-2026-11-22 was made (halocheck release build of
# the commit named in README.md). OpenHalo 1.0.14.18 built without aux_mysql 1.4.
set -e
HALOCHECK_OPENHALO_HOME=/opt/openhalo halocheck sandbox up mariadb openhalo \
    --profile bench --sandbox-dir /tmp/corpus2-sb
# The published run (bench.json, bench.md) ...
halocheck bench --corpus slt/ --iterations 21 --sandbox-dir /tmp/corpus2-sb \
    --out reports/bench-corpus-2026-11-22 \
    --note "OpenHalo 1.0.14.18 built without aux_mysql 1.4 (extension 1.3): SHOW, information_schema, @@variables and SET NAMES fail there for that reason alone"
# ... and four more of the same, for the spread in runs.json.
for r in 2 3 4 5; do
    halocheck bench --corpus slt/ --iterations 21 --sandbox-dir /tmp/corpus2-sb \
        --out /tmp/corpus2-run$r \
        --note "OpenHalo 1.0.14.18 built without aux_mysql 1.4 (extension 1.3): SHOW, information_schema, @@variables and SET NAMES fail there for that reason alone"
done
# runs.json: see README.md (a few lines of Python over the five bench.json).
halocheck sandbox down --purge --sandbox-dir /tmp/corpus2-sb

#!/usr/bin/env bash
# Benchmark of the load generator itself: halocheck bench against Debian's
# sysbench on the same local MariaDB, same tables, workload, threads and
# duration. Prints the achieved-QPS ratio (target >= 1.0) and the ratio of
# client CPU per 1,000 queries (target <= 1.0).
#
#   bash scripts/bench-vs-sysbench.sh [SANDBOX_DIR] [WORKLOAD] [THREADS] [SECONDS] [ROWS]
#
# MODE=prepared (environment) compares server-side prepared statements
# (halocheck --mode prepared, sysbench --db-ps-mode=auto); default text.
# DRIVER=async measures halocheck's async driver instead of the lean one.
#
# SANDBOX_DIR holds a running sandbox MariaDB (halocheck sandbox up mariadb
# --sandbox-dir DIR); default $HALOCHECK_TEST_SANDBOX. Needs sysbench
# (apt-get install sysbench) and python3. Uses target/release/halocheck when
# present (build it with cargo build --release), else target/debug.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dir=${1:-${HALOCHECK_TEST_SANDBOX:-/tmp/halocheck-test-sandbox}}
workload=${2:-point_select}
threads=${3:-4}
seconds=${4:-10}
rows=${5:-10000}
mode=${MODE:-text}
case $mode in
    text) ps_mode=disable ;;
    prepared) ps_mode=auto ;;
    *) echo "MODE must be text or prepared" >&2; exit 2 ;;
esac
bin=target/release/halocheck
[ -x "$bin" ] || bin=target/debug/halocheck
command -v sysbench >/dev/null || { echo "sysbench is not installed (apt-get install sysbench)" >&2; exit 2; }

port=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['servers']['mariadb']['port'])" "$dir/state.json")
password=$(cat "$dir/password")
scratch=halocheck_sysbench
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
# Passwords go through a 0600 file (sysbench) and an environment variable
# (halocheck), never through process arguments.
umask 077
printf 'mysql-password=%s\n' "$password" > "$work/sysbench.cfg"
export HALOCHECK_MARIADB_PASSWORD=$password
url="mariadb=mysql://halocheck@127.0.0.1:$port"

echo "# $workload ($mode), $threads threads, $seconds s, $rows rows, MariaDB on port $port, $bin"
# halocheck loads the tables (kept for sysbench) and runs first.
"$bin" bench --reference "$url" --scratch "$scratch" --keep --no-auto-inc \
    --workload "$workload" --mode "$mode" --threads "$threads" --table-size "$rows" \
    --driver "${DRIVER:-lean}" --client-threads "${CLIENT_THREADS:-2}" --warmup 2 --duration "$seconds" --out "$work/hc" >/dev/null 2>"$work/hc.err" \
    || { cat "$work/hc.err" >&2; exit 2; }
read -r hc_qps hc_queries hc_cpu < <(python3 - "$work/hc/bench.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["cells"][0]
q = c["qps"]["total"] * c["duration_s"]
print(c["qps"]["total"], q, c["resources"]["client_cpu_s"])
EOF
)

# sysbench on the same tables; its CPU from the shell's child times.
bash -c "sysbench oltp_$workload --config-file='$work/sysbench.cfg' --db-driver=mysql \
    --mysql-host=127.0.0.1 --mysql-port=$port --mysql-user=halocheck --mysql-db=$scratch \
    --tables=1 --table-size=$rows --threads=$threads --time=$seconds \
    --rand-type=uniform --db-ps-mode=$ps_mode --mysql-ignore-errors=all run; times" \
    > "$work/sb.out" 2>&1 || { cat "$work/sb.out" >&2; exit 2; }
read -r sb_qps sb_queries sb_cpu < <(python3 - "$work/sb.out" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"queries:\s+(\d+)\s+\(([\d.]+) per sec", t)
# `times`: second line is the children's user and system time, e.g. 0m1.234s 0m0.567s
lines = [l for l in t.splitlines() if re.match(r"^\d+m[\d.]+s \d+m[\d.]+s$", l)]
def secs(x):
    mm, ss = x.rstrip("s").split("m")
    return int(mm) * 60 + float(ss)
u, s = lines[-1].split()
print(m.group(2), m.group(1), secs(u) + secs(s))
EOF
)

"$bin" bench --reference "$url" --scratch "$scratch" --workload point_select --sysbench-cmd >/dev/null
# Drop the kept tables.
"$bin" bench --reference "$url" --scratch "$scratch" --workload point_select --threads 1 \
    --table-size 1 --warmup 0 --duration 0.1 --out "$work/drop" >/dev/null 2>&1 || true

python3 - "$hc_qps" "$hc_queries" "$hc_cpu" "$sb_qps" "$sb_queries" "$sb_cpu" <<'EOF'
import sys
hq, hn, hc, sq, sn, sc = map(float, sys.argv[1:])
print(f"halocheck: {hq:10.1f} qps, client CPU {hc:.2f} s, {1000*hc/hn:.4f} CPU-s per 1000 queries")
print(f"sysbench : {sq:10.1f} qps, client CPU {sc:.2f} s, {1000*sc/sn:.4f} CPU-s per 1000 queries")
print(f"QPS ratio halocheck/sysbench: {hq/sq:.3f} (target >= 1.0)")
print(f"client CPU per 1000 queries ratio halocheck/sysbench: {(hc/hn)/(sc/sn):.3f} (target <= 1.0)")
EOF

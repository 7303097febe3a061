#!/usr/bin/env bash
# A master with FILES agent-group files (about 2.3 KB each, 100 per group folder) and one fresh
# worker, real wazuh-clusterd processes on 127.0.0.1; prints the integrity lines of both logs,
# the worker's time from start to synced, and the peak RSS of both nodes.
# Usage: benches/scripts/fresh-worker.sh FILES [BINARY]
set -euo pipefail
files=${1:?number of files}
bin=${2:-${CARGO_TARGET_DIR:-target}/release/wazuh-clusterd}
root=$(mktemp -d /tmp/fresh-worker.XXXXXX)
# The daemon of a node: the started process itself, or the child of `perf record`.
daemon() { pgrep -P "$(pgrep -P "$1" perf || echo none)" 2>/dev/null || echo "$1"; }
stop() { for p in $mpid $wpid; do kill -TERM "$(daemon "$p")" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$root"; }
mpid=; wpid=; trap stop EXIT
[ -n "${KEEP:-}" ] && echo "root: $root"
key=$("$bin" keygen)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf() { # name type
  mkdir -p "$root/$1/etc"
  cat > "$root/$1/etc/ossec.conf" <<XML
<ossec_config><cluster><name>bench</name><node_name>$1</node_name><node_type>$2</node_type>
<key>$key</key><port>$port</port><bind_addr>127.0.0.1</bind_addr><nodes><node>127.0.0.1</node></nodes>
<hidden>no</hidden><disabled>no</disabled>
<intervals><sync_integrity>1s</sync_integrity><keep_alive>5s</keep_alive></intervals>
</cluster></ossec_config>
XML
}
conf master master
conf worker worker
python3 - "$root/master/etc/shared" "$files" <<'PY'
import os, sys, random
base, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
for i in range(n):
    d = os.path.join(base, f"group{i // 100:04d}")
    os.makedirs(d, exist_ok=True)
    body = "".join(f"<localfile><location>/var/log/f{rnd.getrandbits(160):x}.log</location></localfile>\n" for _ in range(36))
    with open(os.path.join(d, f"file{i:06d}.conf"), "w") as f:
        f.write(body)
PY
du -sh "$root/master/etc/shared" | sed 's/^/tree: /'
peak() { local pid; pid=$(daemon "$1"); awk '/VmHWM/ {print $2/1024 " MB"}' "/proc/$pid/status" 2>/dev/null; }
# PERF=master or PERF=worker records that node with `perf record` into /tmp/NODE.perf.
run() { # name
  if [ "${PERF:-}" = "$1" ]; then perf record -F 499 -g -o "/tmp/$1.perf" -- "$bin" --home "$root/$1" -f >/dev/null 2>&1
  else exec "$bin" --home "$root/$1" -f >/dev/null 2>&1; fi
}
run master & mpid=$!
# Let the master finish its first integrity calculation.
for _ in $(seq 600); do grep -q "Integrity" "$root/master/logs/cluster.log" 2>/dev/null && break; sleep 0.1; done
sleep 1
t0=$(date +%s.%N)
run worker & wpid=$!
for _ in $(seq 1800); do
  grep -q "\[Integrity sync\] Finished in" "$root/worker/logs/cluster.log" 2>/dev/null && break
  sleep 0.05
done
t1=$(date +%s.%N)
sleep 1
echo "master peak RSS: $(peak $mpid)   worker peak RSS: $(peak $wpid)"
grep -h "Integrity" "$root/master/logs/cluster.log" "$root/worker/logs/cluster.log" | grep -v "^$" | grep -i "finished\|files to\|sending\|connected" | head -20
grep -h "ERROR" "$root/master/logs/cluster.log" "$root/worker/logs/cluster.log" | head -5 || true
echo "worker start to synced: $(python3 -c "print(round($t1-$t0,2))") s"
echo "worker files: $(find "$root/worker/etc/shared" -type f | wc -l)"

#!/usr/bin/env bash
# A master with FILES agent-group files (about 2.3 KB each, 100 per group folder) and one fresh
# worker, real wazuh-clusterd processes on 127.0.0.1; prints the integrity lines of both logs,
# the worker's time from start to hello and from hello to synced, the peak RSS of both nodes,
# then the time a 1 % change on the master takes to reach the worker (and the peaks after it,
# its check included), and the CPU both nodes use idle over IDLE seconds (default 60; IDLE=0
# skips it). INTERVAL is the nodes' <sync_integrity> (default 9s, Wazuh's; the first check
# follows hello whatever it is).
# Usage: benches/scripts/fresh-worker.sh FILES [BINARY]
set -euo pipefail
files=${1:?number of files}
bin=${2:-${CARGO_TARGET_DIR:-target}/release/wazuh-clusterd}
root=$(mktemp -d "${TMPDIR:-/tmp}/fresh-worker.XXXXXX")
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
<intervals><sync_integrity>${INTERVAL:-9s}</sync_integrity><keep_alive>5s</keep_alive></intervals>
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
  else exec "$bin" --home "$root/$1" -f ${DEBUG:+-d} >/dev/null 2>&1; fi
}
run master & mpid=$!
# Let the master finish its first integrity calculation.
for _ in $(seq 600); do grep -q "Integrity" "$root/master/logs/cluster.log" 2>/dev/null && break; sleep 0.1; done
sleep 1
echo "master peak RSS before the worker: $(peak $mpid)   RSS now: $(awk '/VmRSS/ {print $2/1024 " MB"}' "/proc/$(daemon $mpid)/status")"
wlog="$root/worker/logs/cluster.log"
synced_rounds() { local n; n=$(grep -c "\[Integrity sync\] Finished in" "$wlog" 2>/dev/null || true); echo "${n:-0}"; }
t0=$(date +%s.%N)
run worker & wpid=$!
th=
for _ in $(seq 3600); do
  [ -z "$th" ] && grep -q "Successfully connected to master" "$wlog" 2>/dev/null && th=$(date +%s.%N)
  [ "$(synced_rounds)" -gt 0 ] && break
  sleep 0.02
done
t1=$(date +%s.%N)
sleep 1
echo "master peak RSS: $(peak $mpid)   worker peak RSS: $(peak $wpid)"
# CPU seconds (user + system) each process used so far: start-up, the first check and the sync.
cpu() { local pid; pid=$(daemon "$1"); awk -v t="$(getconf CLK_TCK)" '{printf "%.2f s", ($14 + $15) / t}' "/proc/$pid/stat" 2>/dev/null; }
echo "CPU so far: master $(cpu $mpid)   worker $(cpu $wpid)"
grep -h "Integrity" "$root/master/logs/cluster.log" "$wlog" | grep -v "^$" | grep -i "finished\|files to\|sending\|connected" | sed -n 1,20p
grep -h "ERROR" "$root/master/logs/cluster.log" "$wlog" | sed -n 1,5p || true
secs() { python3 -c "print(round($2-$1,2))"; }
echo "worker start to hello: $(secs "$t0" "${th:-$t1}") s   hello to synced: $(secs "${th:-$t0}" "$t1") s   start to synced: $(secs "$t0" "$t1") s"
echo "worker files: $(find "$root/worker/etc/shared" -type f | wc -l)"

# A 1 % change: FILES/100 files rewritten on the master, timed (in one process, polling every
# 10 ms) until the worker holds them all.
python3 - "$root/master/etc/shared" "$root/worker/etc/shared" "$files" <<'PY'
import os, sys, time
master, worker, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
paths = [os.path.join(f"group{i // 100:04d}", f"file{i:06d}.conf") for i in range(0, n, 100)]
expected = {}
start = time.monotonic()
for p in paths:
    with open(os.path.join(master, p), "a") as f:
        f.write("<localfile><location>/var/log/changed.log</location></localfile>\n")
    with open(os.path.join(master, p), "rb") as f:
        expected[p] = f.read()
def held(p):
    try:
        with open(os.path.join(worker, p), "rb") as f:
            return f.read() == expected[p]
    except OSError:
        return False
waiting = list(paths)
while waiting and time.monotonic() - start < 60:
    waiting = [p for p in waiting if not held(p)]
    if waiting:
        time.sleep(0.01)
took = time.monotonic() - start
if waiting:
    print(f"1 % change: {len(waiting)} of {len(paths)} files not on the worker after {took:.2f} s")
else:
    print(f"1 % change ({len(paths)} files) on the worker after: {took:.2f} s")
PY
sleep 1
echo "peak RSS after the change: master $(peak $mpid)   worker $(peak $wpid)"

# Idle cost: CPU seconds (user + system) both nodes use over IDLE seconds, nothing changing.
idle=${IDLE:-60}
if [ "$idle" -gt 0 ]; then
  sleep 5
  cpu() { awk '{print $14 + $15}' "/proc/$(daemon "$1")/stat"; }
  hz=$(getconf CLK_TCK)
  m0=$(cpu $mpid); w0=$(cpu $wpid); sleep "$idle"; m1=$(cpu $mpid); w1=$(cpu $wpid)
  python3 -c "m=($m1-$m0)/$hz*60/$idle; w=($w1-$w0)/$hz*60/$idle; print(f'idle CPU per minute: master {m:.2f} s, worker {w:.2f} s, together {m+w:.2f} s (over $idle s)')"
fi

#!/usr/bin/env bash
# A fresh worker's sync (fresh-worker.sh) on a newly made ext4 filesystem, so that no run
# inherits the page cache, the dirty pages or the fragmentation of the one before.
# Needs root (a loop device is mounted). Usage:
#   sudo benches/scripts/fresh-worker-on-new-fs.sh FILES BINARY [TAG]
# Prints the load average at the start, then what fresh-worker.sh prints, also kept in
# /tmp/fresh-TAG.txt. IDLE=N (seconds of idle measurement) is passed on, 0 by default.
set -eu
files=${1:?FILES}
binary=${2:?BINARY}
tag=${3:-run}
mnt=${FRESH_FS_MOUNT:-/tmp/fresh-worker-fs}
img=$mnt.img
here=$(cd "$(dirname "$0")" && pwd)
umount "$mnt" 2>/dev/null || true
rm -f "$img"
truncate -s 2G "$img"
mkfs.ext4 -q -F "$img"
mkdir -p "$mnt"
mount -o loop "$img" "$mnt"
trap 'umount "$mnt" 2>/dev/null || true; rm -f "$img"' EXIT
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  $(date -u +%H:%M)"
TMPDIR=$mnt IDLE=${IDLE:-0} bash "$here/fresh-worker.sh" "$files" "$binary" 2>&1 | tee "/tmp/fresh-$tag.txt"

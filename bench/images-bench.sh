#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# images-bench.sh - the decoders of issue 12 against the tools people use:
#   qcow2 (zlib clusters, as Ubuntu publishes): reimage flash over loopback nginx
#       vs  qemu-img convert -O raw of the same file from local disk
#   gzip: reimage flash (ISA-L) vs reimage flash built with -Disal=disabled (zlib)
#       vs  gzip -dc
#   xz (multi-block, xz -1 -T2): reimage flash vs xz -T0 -dc
#   zstd: reimage flash vs zstd -dc --sparse
# on a 2 GiB ext4 image holding ~900 MiB of files (/usr/share), written to /dev/shm so that
# the decoders, not the disk, are measured.
#
# Usage:   sudo bench/images-bench.sh
# Environment:
#   SCRATCH=/var/tmp/reimage-images-bench  work directory (never inside the git tree)
#   REIMAGE=build/reimage                  binary under test
#   REIMAGE_ZLIB=                          the same built with -Disal=disabled (built into
#                                          $SCRATCH when empty)
#   REPS=3                                 runs per command (the median is reported)
#   KEEP=1                                 keep the scratch directory (images are reused)
#   ONLY=REGEX                             run only the commands whose name matches
#
# Only regular files under $SCRATCH and /dev/shm/reimage-images-bench are written.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
SCRATCH=${SCRATCH:-/var/tmp/reimage-images-bench}
REIMAGE=${REIMAGE:-$TOP/build/reimage}
REIMAGE_ZLIB=${REIMAGE_ZLIB:-}
REPS=${REPS:-3}
KEEP=${KEEP:-0}
ONLY=${ONLY:-.}
OUT=/dev/shm/reimage-images-bench

case "$SCRATCH" in
	"$TOP"|"$TOP"/*) echo "SCRATCH must not be inside the git tree" >&2; exit 2 ;;
	/|"") echo "refusing SCRATCH=$SCRATCH" >&2; exit 2 ;;
esac
log() { printf '[images-bench] %s\n' "$*" >&2; }
for t in nginx qemu-img zstd xz gzip mkfs.ext4 bc /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 2; }
done

NGINX_PID=
cleanup() {
	[[ -n $NGINX_PID ]] && kill "$NGINX_PID" 2>/dev/null || true
	rm -rf "$OUT"
	[[ $KEEP == 1 ]] || rm -rf "$SCRATCH"
}
trap cleanup EXIT
mkdir -p "$SCRATCH/www" "$SCRATCH/nginx" "$OUT"

# --- the images (reused with KEEP=1) ---
W=$SCRATCH/www
if [[ ! -s $W/disk.raw ]]; then
	log "making a 2 GiB ext4 image from /usr/share"
	truncate -s 2G "$W/disk.raw.tmp"
	mkfs.ext4 -q -F -d /usr/share "$W/disk.raw.tmp"
	mv "$W/disk.raw.tmp" "$W/disk.raw"
fi
[[ -s $W/disk.qcow2 ]] || qemu-img convert -c -f raw -O qcow2 "$W/disk.raw" "$W/disk.qcow2"
[[ -s $W/disk.raw.gz ]] || gzip -6 -c "$W/disk.raw" > "$W/disk.raw.gz"
# -1: 3 MiB blocks, so the file has many blocks to decode in parallel (as xz -T writes)
[[ -s $W/disk.raw.xz ]] || xz -1 -T2 -c "$W/disk.raw" > "$W/disk.raw.xz"
[[ -s $W/disk.raw.zst ]] || zstd -q -3 -c "$W/disk.raw" > "$W/disk.raw.zst"

if [[ -z $REIMAGE_ZLIB ]]; then
	log "building reimage with -Disal=disabled"
	[[ -d $SCRATCH/build-zlib ]] || meson setup "$SCRATCH/build-zlib" "$TOP" -Disal=disabled >/dev/null
	ninja -C "$SCRATCH/build-zlib" reimage >/dev/null
	REIMAGE_ZLIB=$SCRATCH/build-zlib/reimage
fi

# --- nginx on loopback ---
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$SCRATCH/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/error.log;
daemon off;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    server { listen 127.0.0.1:$PORT; root $W; }
}
EOF
nginx -c "$SCRATCH/nginx/nginx.conf" -p "$SCRATCH/nginx" &
NGINX_PID=$!
sleep 1
URL=http://127.0.0.1:$PORT

# --- the commands: name, then the shell command; every one writes $OUT/out.raw ---
declare -a NAMES CMDS
add() { NAMES+=("$1"); CMDS+=("$2"); }
add qcow2-reimage-http   "$REIMAGE flash --progress none $URL/disk.qcow2 $OUT/out.raw"
add qcow2-qemu-img-local "qemu-img convert -f qcow2 -O raw $W/disk.qcow2 $OUT/out.raw"
add gzip-reimage-isal    "$REIMAGE flash --progress none $W/disk.raw.gz $OUT/out.raw"
add gzip-reimage-zlib    "$REIMAGE_ZLIB flash --progress none $W/disk.raw.gz $OUT/out.raw"
add gzip-dc              "gzip -dc $W/disk.raw.gz > $OUT/out.raw"
add xz-reimage           "$REIMAGE flash --progress none $W/disk.raw.xz $OUT/out.raw"
add xz-T0-dc             "xz -T0 -dc $W/disk.raw.xz > $OUT/out.raw"
add zstd-reimage         "$REIMAGE flash --progress none $W/disk.raw.zst $OUT/out.raw"
add zstd-dc-sparse       "zstd -q -dc --sparse $W/disk.raw.zst > $OUT/out.raw"

declare -A TIMES RSS CPU
for ((rep = 1; rep <= REPS; rep++)); do
	# interleaved, so that load from other users of the machine hits every command alike
	for i in "${!NAMES[@]}"; do
		n=${NAMES[$i]}
		[[ $n =~ $ONLY ]] || continue
		# reimage refuses to create files under /dev (a typo in a device name?): it exists
		rm -f "$OUT/out.raw"
		: > "$OUT/out.raw"
		sync
		[[ -w /proc/sys/vm/drop_caches ]] && echo 1 > /proc/sys/vm/drop_caches || true
		/usr/bin/time -f '%e %M %U %S' -o "$SCRATCH/t" bash -c "${CMDS[$i]}"
		cmp -s "$OUT/out.raw" "$W/disk.raw" || { echo "$n: output differs from disk.raw" >&2; exit 1; }
		read -r secs kib usr sys < "$SCRATCH/t"
		TIMES[$n]+="$secs "
		RSS[$n]+="$kib "
		CPU[$n]+="$(echo "$usr + $sys" | bc) "
		log "$n run $rep: $secs s, cpu $usr+$sys s, $((kib / 1024)) MiB peak RSS"
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '| command | median wall s | runs (s) | median CPU s (user+sys) | peak RSS MiB |\n|---|---|---|---|---|\n'
for n in "${NAMES[@]}"; do
	[[ -n ${TIMES[$n]:-} ]] || continue
	m=$(echo "${TIMES[$n]}" | median)
	c=$(echo "${CPU[$n]}" | median)
	r=$(echo "${RSS[$n]}" | median)
	printf '| %s | %s | %s | %s | %d |\n' "$n" "$m" "${TIMES[$n]% }" "$c" $((r / 1024))
done
printf '\nsizes: raw %s, qcow2 %s, gz %s, xz %s, zst %s (bytes)\n' \
	"$(stat -c %s "$W/disk.raw")" "$(stat -c %s "$W/disk.qcow2")" "$(stat -c %s "$W/disk.raw.gz")" \
	"$(stat -c %s "$W/disk.raw.xz")" "$(stat -c %s "$W/disk.raw.zst")"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

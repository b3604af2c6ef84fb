#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# flash-bench.sh - wall time and peak RSS of `reimage flash` against
#   curl | zstd -dc | dd      (the usual pipeline, verifies nothing)
#   bmaptool copy --bmap      (Debian's bmap-tools)
#   zstd -dc > /dev/null      (decompression ceiling)
# for a 3 GiB ext4 image holding ~1 GiB of files, served by nginx on 127.0.0.1.
#
# Usage:   sudo bench/flash-bench.sh
# Environment:
#   SCRATCH=/var/tmp/reimage-bench  work directory (never inside the git tree)
#   REIMAGE=build/reimage           binary under test
#   REPS=3                          runs per command (the median is reported)
#   KEEP=1                          keep the scratch directory (and the cached image)
#   RESULTS=bench/results           where results.md / raw.tsv are written
#   DATA_MIB=1024                   how much file data goes into the image
#   ONLY=REGEX                      run only the commands whose name matches (e.g. 'zst')
#   QUIET_WAIT=600                  before each run, wait up to this many seconds for
#                                   the machine to be idle (< 15 % CPU busy), and repeat
#                                   (up to 5 times) a run after which it is busy; 0 = off
#
# Only regular files under $SCRATCH are written; no block device is touched.
# Page caches are dropped (if /proc/sys/vm/drop_caches is writable) before each
# timed command so that no run benefits from the previous one.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
SCRATCH=${SCRATCH:-/var/tmp/reimage-bench}
REIMAGE=${REIMAGE:-$TOP/build/reimage}
REPS=${REPS:-3}
KEEP=${KEEP:-0}
RESULTS=${RESULTS:-$HERE/results}
DATA_MIB=${DATA_MIB:-1024}
QUIET_WAIT=${QUIET_WAIT:-600}
IMG_SIZE=3G

case "$SCRATCH" in
	"$TOP"|"$TOP"/*) echo "SCRATCH must not be inside the git tree" >&2; exit 2 ;;
	/|"") echo "refusing SCRATCH=$SCRATCH" >&2; exit 2 ;;
esac

log() { printf '[flash-bench] %s\n' "$*" >&2; }

for t in nginx zstd xz gzip curl bmaptool mkfs.ext4 cmp sha256sum python3 /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 2; }
done
if [[ ! -x $REIMAGE ]]; then
	log "building $REIMAGE"
	ninja -C "$TOP/build" >&2
fi

CACHE=$SCRATCH/cache   # image + compressed versions, reused when KEEP=1 was set last time
RUN=$SCRATCH/run       # nginx prefix, out.img, per-run timing files
WWW=$SCRATCH/www       # nginx docroot (hard links to the cache)
NGINX_PID=

cleanup() {
	local rc=$?
	if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
		kill "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
	fi
	if [[ $KEEP != 1 ]]; then
		# Only what this script made: SCRATCH may be an existing directory.
		rm -rf -- "$CACHE" "$RUN" "$WWW"
		rmdir -- "$SCRATCH" 2>/dev/null || true
	else
		rm -f -- "$RUN/out.img"
		log "kept $SCRATCH"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$CACHE" "$RUN" "$WWW"
# Other people rebuild build/reimage while this runs: measure a private copy, and
# say which one it was.
REIMAGE_SRC=$REIMAGE
REIMAGE_REV="$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet HEAD -- src 2>/dev/null || echo '+src-changes')"
REIMAGE_BUILT=$(stat -c %y "$REIMAGE_SRC" | cut -d. -f1)
cp "$REIMAGE_SRC" "$RUN/reimage"
REIMAGE=$RUN/reimage
REIMAGE_SUM=$(sha256sum "$REIMAGE" | cut -c1-16)
# nginx workers run unprivileged: the path to the docroot must be traversable.
chmod 755 "$SCRATCH" "$CACHE" "$RUN" "$WWW"

CAN_DROP=0
if [[ -w /proc/sys/vm/drop_caches ]]; then CAN_DROP=1; fi

# ---------------------------------------------------------------- 1. image
build_image() {
	local root=$CACHE/root want have need
	rm -rf -- "$root"
	mkdir -p "$root/usr"
	want=$((DATA_MIB * 1024 * 1024))
	log "copying /usr/share into the image tree"
	cp -a /usr/share "$root/usr/share"
	have=$(du -sb "$root" | cut -f1)
	{
		echo "image content: /usr/share ($(numfmt --to=iec-i --round=nearest --suffix=B "$have") apparent size)"
	} >"$CACHE/content.txt"
	if ((have < want)); then
		need=$((want - have))
		log "/usr/share holds $have bytes < $want: adding $need bytes of files from /usr/lib"
		# Deterministic: files of /usr/lib in path order until the budget is reached.
		find /usr/lib -xdev -type f -printf '%s\t%p\n' | LC_ALL=C sort -t$'\t' -k2 |
			awk -F'\t' -v need="$need" 'sum < need { sum += $1; print $2 }' \
			>"$CACHE/usrlib.list"
		tar -C / --no-recursion -cf - -T <(sed 's|^/||' "$CACHE/usrlib.list") |
			tar -C "$root" -xf -
		have=$(du -sb "$root" | cut -f1)
		echo "plus $(wc -l <"$CACHE/usrlib.list") files from /usr/lib (first in path order: $(head -1 "$CACHE/usrlib.list"), last: $(tail -1 "$CACHE/usrlib.list"))" >>"$CACHE/content.txt"
	fi
	echo "total file data: $have bytes ($(numfmt --to=iec-i --round=nearest --suffix=B "$have"))" >>"$CACHE/content.txt"

	log "mkfs.ext4 -d into a $IMG_SIZE sparse file"
	rm -f "$CACHE/img"
	truncate -s "$IMG_SIZE" "$CACHE/img"
	mkfs.ext4 -q -F -d "$root" "$CACHE/img"
	rm -rf -- "$root"

	log "bmaptool create"
	bmaptool -q create -o "$CACHE/img.bmap" "$CACHE/img"
	log "zstd -3 -T0"
	zstd -q -3 -T0 -f -o "$CACHE/img.zst" "$CACHE/img"
	log "xz -6 -T0 (multi-block)"
	xz -6 -T0 -c "$CACHE/img" >"$CACHE/img.xz"
	if command -v pigz >/dev/null; then
		log "pigz -6"
		pigz -6 -c "$CACHE/img" >"$CACHE/img.gz"
		echo "gzip made with pigz -6" >>"$CACHE/content.txt"
	else
		log "gzip -6"
		gzip -6 -c "$CACHE/img" >"$CACHE/img.gz"
		echo "gzip made with gzip -6" >>"$CACHE/content.txt"
	fi
	(cd "$CACHE" && sha256sum img img.zst img.xz img.gz >SHA256SUMS)
	touch "$CACHE/.complete"
}

if [[ ! -e $CACHE/.complete ]]; then
	build_image
else
	log "reusing cached image in $CACHE"
fi
chmod 644 "$CACHE"/img*
hash_of() { awk -v n="$1" '$2 == n || $2 == "*"n { print $1 }' "$CACHE/SHA256SUMS"; }
for f in img.zst img.xz img.gz; do
	ln -f "$CACHE/$f" "$WWW/$f"
done

# ---------------------------------------------------------------- 2. nginx
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$RUN/nginx/tmp"
cat >"$RUN/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $RUN/nginx/tmp/body;
    proxy_temp_path $RUN/nginx/tmp/proxy;
    fastcgi_temp_path $RUN/nginx/tmp/fastcgi;
    server {
        listen 127.0.0.1:$PORT;
        root $WWW;
    }
}
EOF
nginx -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 50); do
	curl -sfI "$BASE/img.zst" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -sfI "$BASE/img.zst" >/dev/null || { log "nginx did not come up"; cat "$RUN/nginx/error.log" >&2; exit 1; }
log "nginx (pid $NGINX_PID) serving $WWW on $BASE"

# ---------------------------------------------------------------- 3. runs
OUT=$RUN/out.img
H_ZST=$(hash_of img.zst)
H_XZ=$(hash_of img.xz)
H_GZ=$(hash_of img.gz)

# name | kind (rss: report peak RSS; norss: a pipeline, RSS not comparable) | command
# bmaptool decompresses by file name (.zst -> external `zstd -d`), reading the URL with urllib.
declare -a NAMES KINDS CMDS
add() {
	if [[ -n ${ONLY:-} && ! $1 =~ $ONLY ]]; then return 0; fi
	NAMES+=("$1"); KINDS+=("$2"); CMDS+=("$3")
}
add reimage-zst    rss   "$(printf '%q ' "$REIMAGE") flash $BASE/img.zst $OUT --sha256 $H_ZST --progress none"
add pipeline-zst   norss "curl -s $BASE/img.zst | zstd -dc | dd of=$OUT bs=4M status=none"
# bmaptool also checks the SHA-256 of every mapped range listed in the bmap, and
# fsyncs the target at the end (its "sync" column is therefore near zero).
add bmaptool-zst   norss "bmaptool -q copy --bmap $CACHE/img.bmap $BASE/img.zst $OUT"
add zstd-ceiling   rss   "zstd -dc $CACHE/img.zst > /dev/null"
# References for the cost of writing: the same decompression into a sparse file
# (zero blocks become holes, like reimage does; no network, no verification), and
# 3 GiB of zeros into the page cache (what dd in the pipeline writes; measures how
# expensive fresh page-cache memory is on this machine).
add zstd-sparse    rss   "zstd -q -dc --sparse $CACHE/img.zst > $OUT"
add dd-3GiB-zeros  rss   "dd if=/dev/zero of=$OUT bs=4M count=768 status=none"
add reimage-xz     rss   "$(printf '%q ' "$REIMAGE") flash $BASE/img.xz $OUT --sha256 $H_XZ --progress none"
add xz-ceiling     rss   "xz -T0 -dc $CACHE/img.xz > /dev/null"
add xz-T1-ceiling  rss   "xz -T1 -dc $CACHE/img.xz > /dev/null"
add reimage-gz     rss   "$(printf '%q ' "$REIMAGE") flash $BASE/img.gz $OUT --sha256 $H_GZ --progress none"
add gzip-ceiling   rss   "gzip -dc $CACHE/img.gz > /dev/null"
add zlib-ceiling   rss   "python3 $RUN/zlib-ceiling.py $CACHE/img.gz"

# GNU gzip's own inflate is slower than zlib's, so it is no ceiling for a program
# linked with zlib: inflate with zlib (through Python, in 4 MiB pieces) as well.
cat >"$RUN/zlib-ceiling.py" <<'PY'
import sys, zlib
d = zlib.decompressobj(31)
with open(sys.argv[1], "rb", buffering=0) as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        d.decompress(b, 1 << 22)
        while d.unconsumed_tail:
            d.decompress(d.unconsumed_tail, 1 << 22)
assert d.eof, "truncated gzip stream"
PY

now() { date +%s.%N; }
# CPU seconds the whole machine spent busy (user nice system irq softirq steal), all CPUs.
cpu_busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat; }

# Other users' jobs (builds, fuzzers) on a 2-CPU machine distort the timings:
# wait until the machine is quiet before a run, and repeat a run when the machine
# was found busy right after it (something started meanwhile).
busy_pct() {
	local b0 b1
	b0=$(cpu_busy); sleep 1; b1=$(cpu_busy)
	awk -v a="$b0" -v b="$b1" -v n="$(nproc)" 'BEGIN { printf "%d", (b - a) * 100 / n }'
}
top_proc() { ps -eo pcpu=,comm= --sort=-pcpu | awk 'NR == 1 { print $2 }'; }
wait_quiet() {
	local waited=0 busy
	((QUIET_WAIT > 0)) || return 0
	while :; do
		busy=$(busy_pct)
		((busy < 15)) && return 0
		if ((waited == 0)); then
			log "machine busy ($busy % CPU, top: $(top_proc)); waiting up to ${QUIET_WAIT}s"
		fi
		waited=$((waited + 1))
		if ((waited >= QUIET_WAIT)); then
			log "WARNING: machine still busy ($busy % CPU); measuring anyway"
			echo "WARNING: machine busy ($busy % CPU, top: $(top_proc)) before a run of $1" >>"$CHECKS"
			return 0
		fi
	done
}

# run_one NAME KIND CMD REP -> appends a line to raw.tsv
run_one() {
	local name=$1 kind=$2 cmd=$3 rep=$4 t0 t1 c0 c1 tf=$RUN/time.$$ wall rss user sys syncs other
	local attempt busy
	for attempt in 1 2 3 4 5; do
		rm -f -- "$OUT"
		sync
		if ((CAN_DROP)); then echo 3 >/proc/sys/vm/drop_caches; fi
		wait_quiet "$name"
		c0=$(cpu_busy)
		if ! /usr/bin/time -f '%e %M %U %S' -o "$tf" bash -o pipefail -c "$cmd"; then
			log "FAILED: $name: $cmd"
			cat "$tf" >&2 || true
			exit 1
		fi
		t0=$(now); sync; t1=$(now)
		c1=$(cpu_busy)
		((QUIET_WAIT > 0)) || break
		busy=$(busy_pct)
		((busy < 15)) && break
		log "machine busy after $name run $rep ($busy % CPU, top: $(top_proc)); repeating it"
		if ((attempt == 5)); then
			echo "WARNING: $name run $rep kept although the machine was busy ($busy % CPU) after it" >>"$CHECKS"
		fi
	done
	read -r wall rss user sys <"$tf"
	syncs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	# CPU used during the run by everything except the command: nginx, kernel
	# writeback and anything else running on the machine.
	other=$(awk -v a="$c0" -v b="$c1" -v u="$user" -v s="$sys" 'BEGIN { o = b - a - u - s; printf "%.2f", o < 0 ? 0 : o }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$wall" "$syncs" \
		"$(awk -v w="$wall" -v s="$syncs" 'BEGIN { printf "%.2f", w + s }')" \
		"$rss" "$user" "$sys" "$other" >>"$RAW"
	log "$(printf '%-14s run %d: wall %6ss  sync %5ss  rss %7s KiB  user %6ss  sys %5ss  other CPU %5ss' \
		"$name" "$rep" "$wall" "$syncs" "$rss" "$user" "$sys" "$other")"
}

check_output() {
	local name=$1
	if [[ $name == *ceiling || $name == dd-* ]]; then return 0; fi
	if cmp -s "$CACHE/img" "$OUT"; then
		echo "$name: out.img identical to the image (cmp)" >>"$CHECKS"
	else
		echo "$name: out.img DIFFERS from the image" >>"$CHECKS"
		log "output of $name differs from the image"
		CMP_FAIL=1
	fi
	echo "$name: out.img allocated $(du -k "$OUT" | cut -f1) KiB of $(stat -c %s "$OUT") bytes" >>"$CHECKS"
}

mkdir -p "$RESULTS"
RAW=$RESULTS/raw.tsv
CHECKS=$RESULTS/checks.txt
CMP_FAIL=0
printf 'name\trep\twall_s\tsync_s\twall_plus_sync_s\tmaxrss_kib\tuser_s\tsys_s\tother_cpu_s\n' >"$RAW"
: >"$CHECKS"
# Rounds are interleaved (every command once per round) so that drift in the
# VM hits all commands alike.
for ((rep = 1; rep <= REPS; rep++)); do
	for i in "${!NAMES[@]}"; do
		run_one "${NAMES[$i]}" "${KINDS[$i]}" "${CMDS[$i]}" "$rep"
		if ((rep == 1)); then check_output "${NAMES[$i]}"; fi
	done
done
rm -f -- "$OUT"

# ---------------------------------------------------------------- 4. report
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$RAW" | median; }

rng() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { if (lo == "" || $c < lo) lo = $c; if ($c > hi) hi = $c } END { printf "%.2f–%.2f", lo, hi }' "$RAW"; }
declare -A MW=() MS=() MR=() MU=() MY=() MO=()
for i in "${!NAMES[@]}"; do
	n=${NAMES[$i]}
	MW[$n]=$(col "$n" 3); MS[$n]=$(col "$n" 5); MR[$n]=$(col "$n" 6)
	MU[$n]=$(col "$n" 7); MY[$n]=$(col "$n" 8); MO[$n]=$(col "$n" 9)
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

MD=$RESULTS/results.md
{
	echo "### flash-bench results ($(date -u +%Y-%m-%dT%H:%MZ), medians of $REPS runs)"
	echo
	echo "Machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs," \
		"$(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r)," \
		"scratch on $(df -PT "$SCRATCH" | awk 'NR == 2 { print $1 " (" $2 ")" }')"
	echo "Tools: reimage binary sha256 $REIMAGE_SUM… (built $REIMAGE_BUILT, tree at $REIMAGE_REV when copied)," \
		"$(zstd --version | grep -o 'v[0-9.]*'), xz $(xz --version | awk 'NR == 1 { print $4 }')," \
		"$(gzip --version | awk 'NR == 1'), curl $(curl --version | awk 'NR == 1 { print $2 }'), $(bmaptool --version 2>&1), $(nginx -v 2>&1 | sed 's/.*: //')"
	echo
	mapped=$(awk '/<MappedBlocksCount>/ && $1 == "<MappedBlocksCount>" { print $2 }' "$CACHE/img.bmap")
	echo "Image: $(stat -c %s "$CACHE/img") bytes, $mapped mapped 4 KiB blocks ($((mapped * 4 / 1024)) MiB) per bmaptool;"
	echo "zst $(stat -c %s "$CACHE/img.zst") B, xz $(stat -c %s "$CACHE/img.xz") B, gz $(stat -c %s "$CACHE/img.gz") B."
	sed 's/^/  /' "$CACHE/content.txt"
	echo
	echo "| command | wall (s) | wall + sync (s) | wall + sync min–max | peak RSS (MiB) | user (s) | sys (s) | other CPU (s) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for i in "${!NAMES[@]}"; do
		n=${NAMES[$i]}
		if [[ ${KINDS[$i]} == rss ]]; then
			r=$(awk -v k="${MR[$n]}" 'BEGIN { printf "%.1f", k / 1024 }')
		else
			r="($(awk -v k="${MR[$n]}" 'BEGIN { printf "%.1f", k / 1024 }'))"
		fi
		echo "| $n | ${MW[$n]} | ${MS[$n]} | $(rng "$n" 5) | $r | ${MU[$n]} | ${MY[$n]} | ${MO[$n]} |"
	done
	echo
	echo "RSS in parentheses: largest single process of a multi-process command (not comparable)."
	echo "user/sys: CPU of the command and all its children. other CPU: CPU the rest of the machine"
	echo "used meanwhile (nginx, kernel writeback threads, anything else running); all values are medians."
	echo
	echo "| ratio | wall | wall + sync | target |"
	echo "|---|---:|---:|---:|"
	echo "| reimage-zst / pipeline-zst | $(ratio "${MW[reimage-zst]:-}" "${MW[pipeline-zst]:-}") | $(ratio "${MS[reimage-zst]:-}" "${MS[pipeline-zst]:-}") | <= 0.67 |"
	echo "| reimage-zst / bmaptool-zst | $(ratio "${MW[reimage-zst]:-}" "${MW[bmaptool-zst]:-}") | $(ratio "${MS[reimage-zst]:-}" "${MS[bmaptool-zst]:-}") | <= 1.00 |"
	echo "| reimage-zst / zstd-ceiling | $(ratio "${MW[reimage-zst]:-}" "${MW[zstd-ceiling]:-}") | | |"
	echo "| reimage-zst / zstd-sparse | $(ratio "${MW[reimage-zst]:-}" "${MW[zstd-sparse]:-}") | $(ratio "${MS[reimage-zst]:-}" "${MS[zstd-sparse]:-}") | |"
	echo "| reimage-xz / xz-ceiling (xz -T0) | $(ratio "${MW[reimage-xz]:-}" "${MW[xz-ceiling]:-}") | | |"
	echo "| reimage-xz / xz-T1-ceiling | $(ratio "${MW[reimage-xz]:-}" "${MW[xz-T1-ceiling]:-}") | | |"
	echo "| reimage-gz / gzip-ceiling | $(ratio "${MW[reimage-gz]:-}" "${MW[gzip-ceiling]:-}") | | |"
	echo "| reimage-gz / zlib-ceiling | $(ratio "${MW[reimage-gz]:-}" "${MW[zlib-ceiling]:-}") | | |"
	echo
	echo "Output checks (first round):"
	sed 's/^/- /' "$CHECKS"
	if ((CAN_DROP == 0)); then echo; echo "WARNING: page caches could not be dropped between runs."; fi
} >"$MD"
cat "$MD"
log "results in $MD and $RAW"
exit $CMP_FAIL

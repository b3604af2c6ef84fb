#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Flasher figures for docs/performance.md: initramfs size by kind for Debian's cloud kernel
# (module sets "host" as a QEMU guest loads them, and "net-storage"), and, under QEMU TCG with
# 256 MiB of RAM, the time from kernel start to the first byte written and to the end of the
# job (kernel timestamps of the flasher's own log lines, made visible with ignore_loglevel).
#
# Usage: bench/flasher-boot.sh   (as root; needs the test kernel cache, see tests/e2e)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
reimage=$top/build/reimage
cache=${REIMAGE_TEST_CACHE:-/var/cache/reimage-test}
pkg=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/.*Depends: \(linux-image-.*\)/\1/p' | head -1)
kver=${pkg#linux-image-}
sysroot=$cache/sysroot-$kver
[[ -e $sysroot/boot/vmlinuz-$kver ]] || { echo "run the e2e tests once to fill $sysroot" >&2; exit 1; }

work=$(mktemp -d /tmp/reimage-flasher-bench.XXXXXX)
chmod 755 "$work"
nginx_pid=
cleanup() { [[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The modules a QEMU guest with virtio disk and network loads (what --modules host would take
# there): the flasher's own coldplug list from a run, plus their dependencies.
host_modules=(virtio_pci virtio_net virtio_blk ata_piix ata_generic sr_mod)
args=()
for m in "${host_modules[@]}"; do args+=(--add-module "$m"); done

echo "## initramfs size, kernel $kver"
for set in host net-storage; do
	if [[ $set == host ]]; then
		"$reimage" initrd -o "$work/$set.img" --sysroot "$sysroot" --kernel-version "$kver" \
			--modules none "${args[@]}" | sed "s/^/[$set] /"
	else
		"$reimage" initrd -o "$work/$set.img" --sysroot "$sysroot" --kernel-version "$kver" \
			--modules net-storage | sed "s/^/[$set] /"
	fi
done

# a 256 MiB image: 64 MiB of data, the rest zeros
mkdir -p "$work/www" "$work/nginx"
head -c 64M /dev/urandom >"$work/img"
truncate -s 256M "$work/img"
zstd -q -3 "$work/img" -o "$work/www/img.zst"
chmod 644 "$work/www/img.zst"
sha=$(sha256sum "$work/www/img.zst" | cut -d' ' -f1)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1; pid $work/nginx/pid; error_log $work/nginx/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $work/nginx/b; proxy_temp_path $work/nginx/p;
  fastcgi_temp_path $work/nginx/f; uwsgi_temp_path $work/nginx/u; scgi_temp_path $work/nginx/s;
  server { listen 127.0.0.1:$port; root $work/www; } }
CONF
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
sleep 0.5

echo
echo "## boot to first byte and to the end of the job (QEMU TCG, -m 256, 256 MiB image, 64 MiB data)"
for set in host net-storage; do
	"$reimage" initrd -o "$work/job-$set.img" --sysroot "$sysroot" --kernel-version "$kver" \
		$([[ $set == host ]] && echo --modules none "${args[@]}" || echo --modules net-storage) \
		--src "http://10.0.2.2:$port/img.zst" --dst /dev/vda --sha256 "$sha" >/dev/null
	truncate -s 0 "$work/disk" && truncate -s 300M "$work/disk"
	start=$(date +%s.%N)
	qemu-system-x86_64 -machine accel=tcg -m 256 -smp 1 -display none -monitor none -no-reboot \
		-serial "file:$work/console-$set.log" -kernel "$sysroot/boot/vmlinuz-$kver" \
		-initrd "$work/job-$set.img" -append "console=ttyS0 panic=-1 ignore_loglevel" \
		-drive "file=$work/disk,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=d0 \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0 >/dev/null
	end=$(date +%s.%N)
	cmp -n 268435456 "$work/img" "$work/disk" >/dev/null || { echo "[$set] disk differs!"; exit 1; }
	init=$(grep -m1 'Run /init' "$work/console-$set.log" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
	first=$(grep -m1 'reimage: writing ' "$work/console-$set.log" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
	done_=$(grep -m1 'reimage: done: ' "$work/console-$set.log" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
	printf '[%s] /init started at %s s, writing started at %s s, job done at %s s (kernel clock); QEMU wall time %.1f s\n' \
		"$set" "$init" "$first" "$done_" "$(awk "BEGIN{print $end - $start}")"
done

# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for reimage: subcommands, each one's options, and for the values the kind
# of thing they name (a disk, a file, one of a few words). The option lists are checked
# against every subcommand's --help by tests/system/test_package.py.

_reimage_disks()
{
	local d
	d=$(lsblk -dnpo NAME 2>/dev/null)
	COMPREPLY=($(compgen -W "$d" -- "$1"))
}

_reimage()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	local commands="flash go initrd bundle kexec configure status done"
	local tls="--cacert --pin --client-cert --client-key --insecure"
	local job="--proxy --member --job --src --to --dst --sha256 --image-sha256 --verify --header --header-file
		--then --hold --hold-timeout --ssh-port --authorized-keys $tls"
	local identity="--keep-identity --keep-ssh-host-keys --keep-authorized-keys --ssh-authorized-keys --keep-network --hostname --cloud-init-user-data --cloud-init-meta-data --copy --grow --no-grow"
	local report="--report --report-cacert --report-header --report-header-file --start-jitter"
	local build="--compression --kernel-version --sysroot --modules --add-module --include
		--binary"
	local -A opts=(
		[flash]="--to --member --sha256 --sums --name --sums-sig --keyring --minisig --pubkey
			--image-sha256 --verify --header --header-file --retries --retry-for
			--connect-timeout --stall-timeout --low-speed --progress --json -q --quiet
			$tls $report -h --help -V --version"
		[go]="--to --dst --member --sha256 --sums --name --image-sha256 --verify --sums-sig --keyring
			--minisig --pubkey --header --header-file --then --yes --dry-run --json
			--save-initrd --kernel --add-module --no-carry-network --retries --retry-for
			--attempts --hold --hold-timeout --ssh-port --authorized-keys --proxy $tls $identity $report
			-h --help -V --version"
		[initrd]="-o --output --list --json $build $job $identity $report -h --help -V --version"
		[bundle]="-o --output --info --json --kernel --append --loader $build $job $identity $report
			-h --help -V --version"
		[kexec]="-l --load --initrd --ramdisk --cmdline --command-line --reuse-cmdline
			--append -e --exec -u --unload -S --status -s --kexec-file-syscall
			-h --help -V --version"
		[configure]="--job --identity-dir --yes $identity -h --help -V --version"
		[status]="--json -h --help -V --version"
		[done]="reboot poweroff kexec -h --help -V --version"
	)

	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi

	case $prev in
	--to | --dst)
		_reimage_disks "$cur"
		return ;;
	--then)
		COMPREPLY=($(compgen -W "reboot poweroff hold kexec" -- "$cur"))
		return ;;
	--progress)
		COMPREPLY=($(compgen -W "auto bar line none" -- "$cur"))
		return ;;
	--compression)
		COMPREPLY=($(compgen -W "zstd xz gzip none" -- "$cur"))
		return ;;
	--modules)
		COMPREPLY=($(compgen -W "host net-storage none" -- "$cur"))
		return ;;
	--kernel-version)
		COMPREPLY=($(compgen -W "$(ls /lib/modules 2>/dev/null)" -- "$cur"))
		return ;;
	--sysroot)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--sha256 | --image-sha256 | --header | --pin | --name | --retries | --retry-for | \
	--attempts | --connect-timeout | --stall-timeout | --low-speed | --hold-timeout | \
	--ssh-port | --append | --cmdline | --command-line | --add-module | --src | --proxy | \
	--member | --hostname | --copy | --report | --report-header | --start-jitter)
		return ;;
	-o | --output | --list | --info | --sums | --sums-sig | --keyring | --minisig | \
	--pubkey | --header-file | --cacert | --client-cert | --client-key | --job | \
	--save-initrd | --kernel | --loader | --include | --binary | --initrd | --ramdisk | \
	--authorized-keys | --ssh-authorized-keys | --cloud-init-user-data | --cloud-init-meta-data | \
	--identity-dir | --report-cacert | --report-header-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return ;;
	esac

	if [[ $cur == -* || $cmd == done ]]; then
		COMPREPLY=($(compgen -W "${opts[$cmd]}" -- "$cur"))
		return
	fi
	# positional arguments: an image file or URL, a target, a kernel
	case $cmd in
	flash | kexec)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null ;;
	esac
}
complete -F _reimage reimage

# SPDX-License-Identifier: MIT
# bash completion for gvtgctl(8)

_gvtgctl_parents()
{
	local root=$1 p
	for p in "$root"/sys/class/mdev_bus/*; do
		[[ -e $p ]] && printf '%s\n' "${p##*/}"
	done
}

_gvtgctl_types()
{
	local root=$1 parent=$2 p t
	for p in "$root"/sys/class/mdev_bus/*; do
		[[ -n $parent && ${p##*/} != "$parent" ]] && continue
		for t in "$p"/mdev_supported_types/*; do
			[[ -e $t ]] && printf '%s\n' "${t##*/}"
		done
	done
}

# Defined libvirt domains, when virsh answers quickly (attach/detach).
_gvtgctl_domains()
{
	command -v virsh >/dev/null 2>&1 || return 0
	timeout 2 virsh ${1:+-c "$1"} list --all --name 2>/dev/null | sed '/^$/d'
}

# The UUIDs mdevctl defines (undefine).
_gvtgctl_defined()
{
	local root=$1 f
	for f in "$root"/etc/mdevctl.d/*/*; do
		[[ -f $f && ${f%/*} != */scripts.d ]] && printf '%s\n' "${f##*/}"
	done
	return 0
}

_gvtgctl_vgpus()
{
	local root=$1 d
	for d in "$root"/sys/bus/mdev/devices/*; do
		[[ -e $d ]] && printf '%s\n' "${d##*/}"
	done
}

# bash splits words at ':'; bash-completion's helper trims what is already typed.
_gvtgctl_colons()
{
	if declare -F __ltrim_colon_completions >/dev/null; then
		__ltrim_colon_completions "$cur"
	fi
}

_gvtgctl()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		# keep PCI addresses (0000:00:02.0) whole
		_init_completion -n : || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local globals='--root --config --json --verbose --help --version'
	local commands='list types create remove check config metrics attach detach xml define undefine boot sleep help'
	local root='' parent='' uri='' cmd='' i

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--root) root=${words[i + 1]} ;;
		--root=*) root=${words[i]#--root=} ;;
		--parent) parent=${words[i + 1]} ;;
		--parent=*) parent=${words[i]#--parent=} ;;
		--connect) uri=${words[i + 1]} ;;
		--connect=*) uri=${words[i]#--connect=} ;;
		-*) ;;
		*)
			case ${words[i - 1]} in
			--root | --config | --parent | --type | --romfile | --display | --uuid | \
				--connect) ;;
			*) [[ -z $cmd ]] && cmd=${words[i]} ;;
			esac
			;;
		esac
	done

	case $prev in
	--root)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	--config | --romfile)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--parent)
		mapfile -t COMPREPLY < <(compgen -W "$(_gvtgctl_parents "$root")" -- "$cur")
		_gvtgctl_colons
		return
		;;
	--type)
		mapfile -t COMPREPLY < <(compgen -W "$(_gvtgctl_types "$root" "$parent")" -- "$cur")
		return
		;;
	--display)
		mapfile -t COMPREPLY < <(compgen -W 'off gtk spice' -- "$cur")
		return
		;;
	--uuid | --connect)
		return
		;;
	esac

	local words_for=''
	case $cmd in
	'') words_for="$globals $commands" ;;
	list) words_for='--json --uuid --parent --defined' ;;
	check | config) words_for='--json' ;;
	metrics) words_for='--output' ;;
	types) words_for="--json $(_gvtgctl_parents "$root")" ;;
	create) words_for='--parent --type' ;;
	define) words_for='--parent --type --auto --json' ;;
	undefine) words_for="$(_gvtgctl_defined "$root")" ;;
	remove) words_for="--force $(_gvtgctl_vgpus "$root")" ;;
	xml) words_for="--display --ramfb --romfile --parent --type $(_gvtgctl_vgpus "$root")" ;;
	attach)
		words_for="--type --parent --uuid --display --ramfb --romfile --dry-run --connect"
		words_for="$words_for $(_gvtgctl_domains "$uri")"
		;;
	detach) words_for="--dry-run --connect $(_gvtgctl_domains "$uri")" ;;
	help) words_for=$commands ;;
	boot) words_for='--stop' ;;
	sleep) words_for='pre post' ;;
	esac
	[[ -n $cmd ]] && words_for="$words_for --root --config --verbose --help"
	mapfile -t COMPREPLY < <(compgen -W "$words_for" -- "$cur")
	_gvtgctl_colons
}

complete -F _gvtgctl gvtgctl

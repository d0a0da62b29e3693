# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers to run mdev-sim (a simulated mdev sysfs) under a test root; source this file.
#
#   sim_available                  0 when the simulator can run here (root, /dev/fuse,
#                                  fusermount3, the binary in $MDEV_SIM); otherwise 1,
#                                  with the reason in $SIM_UNAVAILABLE
#   sim_start ROOT [PROFILE] [ARGS...]
#                                  mounts the simulator on ROOT/sys (profile gvt or
#                                  samples, extra mdev-sim options after it) and waits at
#                                  most 5 s for ROOT/sys/class/mdev_bus
#   sim_stop ROOT                  unmounts ROOT/sys and ends the simulator, bounded
#
# The simulator runs with -f, detached from the caller's jobs (a bare `wait` does not wait
# for it); its pid is kept in ROOT/.mdev-sim.pid and its stderr in ROOT/.mdev-sim.err.
# sim_stop ends it with SIGTERM: started in the background by a non-interactive shell it
# ignores SIGINT.

SIM_UNAVAILABLE=''

sim_available() {
	if [[ $(id -u) -ne 0 ]]; then
		SIM_UNAVAILABLE='not root'
	elif [[ ! -c /dev/fuse ]]; then
		SIM_UNAVAILABLE='no /dev/fuse'
	elif ! command -v fusermount3 >/dev/null 2>&1; then
		SIM_UNAVAILABLE='no fusermount3 (Debian package fuse3)'
	elif [[ -z ${MDEV_SIM:-} || ! -x ${MDEV_SIM} ]]; then
		SIM_UNAVAILABLE='mdev-sim not built (MDEV_SIM unset; needs libfuse3-dev)'
	else
		SIM_UNAVAILABLE=''
		return 0
	fi
	return 1
}

# True while PATH is a mount point, read from the mount table: stat() on a FUSE mount
# whose daemon died fails with ENOTCONN, so mountpoint(1) is not reliable here.
_sim_mounted() {
	local want
	want=$(realpath -m -- "$1")
	want=${want// /\\040}
	local _dev mnt _rest
	while read -r _dev mnt _rest; do
		[[ $mnt == "$want" ]] && return 0
	done </proc/self/mounts
	return 1
}

# True while PID runs (a zombie counts as gone).
_sim_alive() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	state=$(sed -e 's/^.*) //' -e 's/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

sim_start() {
	local root=${1:?sim_start: ROOT missing}
	local profile=${2:-gvt}
	shift $(($# >= 2 ? 2 : 1))
	if ! sim_available; then
		echo "sim_start: cannot run mdev-sim: $SIM_UNAVAILABLE" >&2
		return 1
	fi
	if _sim_mounted "$root/sys"; then
		echo "sim_start: $root/sys is already a mount point (a simulator still running?)" >&2
		return 1
	fi
	mkdir -p -- "$root/sys"
	# Started from a subshell so it is not a job of the caller: a bare `wait` in a test
	# (for its own parallel writers) must not wait for the simulator too.
	(
		"$MDEV_SIM" -f --profile "$profile" "$@" "$root/sys" \
			</dev/null >/dev/null 2>"$root/.mdev-sim.err" &
		echo "$!" >"$root/.mdev-sim.pid"
	)
	local pid
	pid=$(<"$root/.mdev-sim.pid")
	local i
	for ((i = 0; i < 100; i++)); do
		if [[ -d $root/sys/class/mdev_bus ]] && _sim_mounted "$root/sys"; then
			return 0
		fi
		if ! _sim_alive "$pid"; then
			echo "sim_start: mdev-sim exited before mounting $root/sys:" \
				"$(cat "$root/.mdev-sim.err" 2>/dev/null)" >&2
			rm -f -- "$root/.mdev-sim.pid"
			return 1
		fi
		sleep 0.05
	done
	echo "sim_start: $root/sys/class/mdev_bus did not appear within 5 s" >&2
	sim_stop "$root"
	return 1
}

sim_stop() {
	local root=${1:?sim_stop: ROOT missing}
	local pid='' i
	[[ -r $root/.mdev-sim.pid ]] && pid=$(<"$root/.mdev-sim.pid")
	if [[ -n $pid ]] && _sim_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			_sim_alive "$pid" || break
			sleep 0.05
		done
		if _sim_alive "$pid"; then
			echo "sim_stop: mdev-sim ($pid) ignored SIGTERM for 5 s, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 40; i++)); do
				_sim_alive "$pid" || break
				sleep 0.05
			done
		fi
	fi
	if _sim_mounted "$root/sys"; then
		# A killed daemon leaves its mount behind: detach it.
		fusermount3 -u -z -- "$root/sys" 2>/dev/null ||
			umount -l -- "$root/sys" 2>/dev/null || true
	fi
	rm -f -- "$root/.mdev-sim.pid"
	if _sim_mounted "$root/sys"; then
		echo "sim_stop: $root/sys is still mounted" >&2
		return 1
	fi
	return 0
}

#!/bin/sh
# Runs the kernel-feature tests this machine's kernel cannot (VLANs: no
# 8021q here; WireGuard: no module here) under Debian's stock kernel, in the throwaway VM of the
# workplace's vm-run:  sh tests/vm/run.sh build/moat
# One VM boot for all of them: the VM's CPU is emulated, keep it short.
set -eu
[ $# -eq 1 ] || { echo "usage: sh tests/vm/run.sh path/to/moat" >&2; exit 2; }
case $1 in /*) moat=$1 ;; *) moat=$(pwd)/$1 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
shared=$(sh "$here/../shared-dir.sh")
work=$(mktemp -d /tmp/moat-vm-XXXXXX)
trap 'rm -rf "$work"' EXIT
exec "$shared/tools/vm-run" --timeout 600 --dir "$work" -- \
	sh -c 'r=0; sh "$1/net.sh" "$2" || r=1; sh "$1/wg.sh" "$2" "$3" || r=1
	       exit $r' vm "$here" "$moat" "$work"

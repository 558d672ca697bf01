#!/bin/sh
# Inside the VM (stock kernel, wireguard module): the WireGuard system
# tests of tests/system/test_wg.py with the kernel backend on both sides
# (moat over generic netlink; the peers made with ip link ... type
# wireguard and wg). pytest works under the VM's own /tmp: SQLite's WAL
# needs shared memory the VM's view of the host's files cannot give.
set -eu
moat=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
modprobe wireguard
cd "$(dirname "$0")/../.."
MOAT=$moat MOAT_WG_BACKEND=kernel PYTHONDONTWRITEBYTECODE=1 \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider \
	--basetemp="$work/pytest" tests/system/test_wg.py

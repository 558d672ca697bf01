#!/bin/sh
# Runs the system tests (pytest, root, network namespaces) against the moat
# binary given as $1:  sh tests/system/run.sh build/moat
# Uses the first python3 that has pytest (a pyenv python3 first on PATH may
# not; Debian's python3-pytest is in /usr/bin/python3).
set -eu
if [ $# -ne 1 ]; then
	echo "usage: sh tests/system/run.sh path/to/moat" >&2
	exit 2
fi
case $1 in
/*) MOAT=$1 ;;
*) MOAT=$(pwd)/$1 ;;
esac
export MOAT
if [ ! -x "$MOAT" ]; then
	echo "run.sh: no moat binary at $MOAT" >&2
	exit 2
fi
cd "$(dirname "$0")/../.."
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import pytest' 2>/dev/null; then
		PYTHONDONTWRITEBYTECODE=1 exec "$py" -m pytest -q \
			-p no:cacheprovider tests/system
	fi
done
echo "run.sh: no python3 with pytest (apt-get install python3-pytest)" >&2
exit 1

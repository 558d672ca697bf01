#!/bin/sh
# The HCL parser against the reference implementation: every file of the
# Flywall corpus and every hard case under tests/hcl/oracle must come out
# `same` or `both reject`.
# Usage: tests/oracle.sh MOAT
set -eu
moat=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
shared=$("$top/tests/shared-dir.sh")
# The hard cases read $HOME through ${HOME}; make it the same for both.
export HOME=/root
"$shared/tools/hcl-oracle/compare" "$moat" "$shared"/compat/flywall/*.hcl \
	"$top"/tests/hcl/oracle/*.hcl

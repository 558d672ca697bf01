#!/bin/sh
# Golden files for `moat config print`: tests/golden/NAME.hcl must print as
# tests/golden/NAME.print, and the printed text must load and print the same
# again (the round trip). The examples must round-trip too.
# Usage: tests/golden.sh MOAT      (UPDATE=1 rewrites the .print files)
set -u
moat=$1
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for f in "$top"/tests/golden/*.hcl "$top"/examples/*.hcl; do
	name=$(basename "$f" .hcl)
	if ! "$moat" config print -c "$f" >"$tmp/$name.print" 2>"$tmp/err"; then
		echo "FAIL $f: does not load"; cat "$tmp/err"; fail=1; continue
	fi
	want=${f%.hcl}.print
	case $f in */tests/golden/*)
		if [ "${UPDATE:-}" = 1 ]; then cp "$tmp/$name.print" "$want"; fi
		if ! diff -u "$want" "$tmp/$name.print"; then
			echo "FAIL $f: print differs from $(basename "$want")"; fail=1
		fi
	esac
	if ! "$moat" config print -c "$tmp/$name.print" >"$tmp/$name.again" 2>"$tmp/err" ||
	   ! cmp -s "$tmp/$name.print" "$tmp/$name.again"; then
		echo "FAIL $f: the print does not round-trip"; cat "$tmp/err"
		diff -u "$tmp/$name.print" "$tmp/$name.again"; fail=1
	fi
done
[ $fail = 0 ] && echo "golden: all prints as expected and round-trip"
exit $fail

#!/bin/sh
# Golden files. For tests/golden/NAME.hcl:
#   NAME.print  `moat config print` must print exactly this;
#   NAME.nft    `moat compile` must print exactly this, and nft must accept
#               it (`nft -c -f`, in a network namespace of its own).
# Every golden config and example must also print, load and print the same
# again (the round trip), and compile to a ruleset nft accepts.
# Usage: tests/golden.sh MOAT      (UPDATE=1 rewrites the golden files)
set -u
moat=$1
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0

# compare NAME.EXT with what was produced; UPDATE=1 rewrites it
golden() {
	want=$1 got=$2
	[ "${UPDATE:-}" = 1 ] && cp "$got" "$want"
	if ! diff -u "$want" "$got"; then
		echo "FAIL: output differs from $(basename "$want")"; fail=1
	fi
}

# nft -c talks to the kernel; a namespace of its own keeps it away from
# the machine's ruleset
nft_check() {
	if ! unshare -n nft -c -f "$1" >"$tmp/nft.err" 2>&1; then
		echo "FAIL $2: nft refuses the compiled ruleset"; cat "$tmp/nft.err"
		fail=1
	fi
}

for f in "$top"/tests/golden/*.hcl "$top"/examples/*.hcl; do
	name=$(basename "$f" .hcl)
	if ! "$moat" config print -c "$f" >"$tmp/$name.print" 2>"$tmp/err"; then
		echo "FAIL $f: does not load"; cat "$tmp/err"; fail=1; continue
	fi
	[ -f "${f%.hcl}.print" ] && golden "${f%.hcl}.print" "$tmp/$name.print"
	if ! "$moat" config print -c "$tmp/$name.print" >"$tmp/$name.again" 2>"$tmp/err" ||
	   ! cmp -s "$tmp/$name.print" "$tmp/$name.again"; then
		echo "FAIL $f: the print does not round-trip"; cat "$tmp/err"
		diff -u "$tmp/$name.print" "$tmp/$name.again"; fail=1
	fi
	if ! "$moat" compile -c "$f" >"$tmp/$name.nft" 2>"$tmp/err"; then
		echo "FAIL $f: does not compile"; cat "$tmp/err"; fail=1; continue
	fi
	case $f in */tests/golden/fw-*)
		golden "${f%.hcl}.nft" "$tmp/$name.nft"
	esac
	nft_check "$tmp/$name.nft" "$f"
done
[ $fail = 0 ] && echo "golden: prints and rulesets as expected; nft accepts every ruleset"
exit $fail

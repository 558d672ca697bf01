#!/bin/sh
# moat check over Flywall's corpus: every file must check without an error,
# except the errors listed in tests/compat/flywall-expected-errors.txt (each
# explained in docs/compat.md), which must still be reported. Every file that
# checks must compile (`moat compile`, same list of exceptions) to a ruleset
# that nft accepts (`nft -c`, in a network namespace of its own).
# Usage: tests/corpus.sh MOAT
set -u
moat=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
shared=$("$top/tests/shared-dir.sh") || exit 1
corpus=$shared/compat/flywall
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Give every ${VAR} the corpus reads a value (a well-formed WireGuard key,
# since one of them is a preshared key).
for v in $(grep -oh '\${[A-Za-z_][A-Za-z0-9_]*}' "$corpus"/*.hcl | tr -d '${}' | sort -u); do
	export "$v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
done
cd "$corpus"
for f in *.hcl; do
	"$moat" check -c "$f" >/dev/null 2>"$tmp/out"
	rc=$?
	if [ $rc -gt 1 ]; then
		echo "FAIL $f: exit $rc"; cat "$tmp/out"; echo x >>"$tmp/failed"
	fi
	grep ': error: ' "$tmp/out" | cut -d: -f1-3 >>"$tmp/got"
	[ $rc = 0 ] || continue
	"$moat" compile -c "$f" >"$tmp/nft" 2>"$tmp/out"
	rc=$?
	if [ $rc -gt 1 ]; then
		echo "FAIL $f: moat compile exit $rc"; cat "$tmp/out"; echo x >>"$tmp/failed"
	fi
	grep ': error: ' "$tmp/out" | cut -d: -f1-3 >>"$tmp/got"
	if [ -s "$tmp/nft" ]; then
		nftok=$((${nftok:-0} + 1))
		if ! unshare -n nft -c -f "$tmp/nft" >"$tmp/nfterr" 2>&1; then
			echo "FAIL $f: nft refuses the compiled ruleset"
			cat "$tmp/nfterr"; echo x >>"$tmp/failed"
		fi
	fi
done
grep -v '^#' "$top/tests/compat/flywall-expected-errors.txt" | sort >"$tmp/want"
sort -o "$tmp/got" "$tmp/got"
if ! diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
	echo "errors differ from tests/compat/flywall-expected-errors.txt:"
	cat "$tmp/diff"
	exit 1
fi
[ -f "$tmp/failed" ] && exit 1
echo "corpus: $(ls *.hcl | wc -l) files, $(wc -l <"$tmp/want") expected errors, all as listed; ${nftok:-0} compiled rulesets accepted by nft"

#!/bin/sh
# moat check over Flywall's corpus: every file must check without an error,
# except the errors listed in tests/compat/flywall-expected-errors.txt (each
# explained in docs/compat.md), which must still be reported.
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
done
grep -v '^#' "$top/tests/compat/flywall-expected-errors.txt" | sort >"$tmp/want"
sort -o "$tmp/got" "$tmp/got"
if ! diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
	echo "errors differ from tests/compat/flywall-expected-errors.txt:"
	cat "$tmp/diff"
	exit 1
fi
[ -f "$tmp/failed" ] && exit 1
echo "corpus: $(ls *.hcl | wc -l) files, $(wc -l <"$tmp/want") expected errors, all as listed"

#!/bin/sh
# Parsing speed against the reference HCL implementation (hashicorp/hcl v2,
# Go), in the same run: both dump the same generated ~8 MB config as JSON.
# Prints the ratio (reference time / moat time). Usage: bench/hcl-parse.sh MOAT
set -eu
moat=$1
top=$(cd "$(dirname "$0")/.." && pwd)
shared=$("$top/tests/shared-dir.sh")
oracle=${XDG_CACHE_HOME:-/tmp}/hcl-oracle/hcl-oracle
[ -x "$oracle" ] || "$shared/tools/hcl-oracle/build" "$oracle" >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/big.hcl" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write(f'''policy "z{i}" "wan" {{
  description = "policy number {i} with some text \\u00e9"
  rule "r{i}" {{
    proto     = "tcp"
    dest_port = [80, 443, {1024 + i % 60000}]
    src_ip    = "10.{i % 256}.{i // 256 % 256}.0/24"
    action    = "accept"
  }}
}}
''')
PY
run() { # best of 5, in seconds
	best=
	for i in 1 2 3 4 5; do
		s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
	done
	echo "$best"
}
m=$(run "$moat" config dump "$tmp/big.hcl")
r=$(run "$oracle" "$tmp/big.hcl")
echo "file: $(du -h "$tmp/big.hcl" | cut -f1), 20,000 policies"
echo "moat config dump: ${m}s   reference (hcl v2): ${r}s   ratio: $(echo "scale=1; $r / $m" | bc)x"

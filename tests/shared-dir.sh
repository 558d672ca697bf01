#!/bin/sh
# Prints the workplace's shared directory (the Flywall corpus and the HCL
# oracle live there): $MOAT_SHARED, else ../shared next to the checkout,
# else /work/shared. Fails loudly when there is none: the tests that need
# it must not pass by skipping.
top=$(cd "$(dirname "$0")/.." && pwd)
for d in "${MOAT_SHARED:-}" "$top/../shared" /work/shared; do
	if [ -n "$d" ] && [ -d "$d/compat/flywall" ] && [ -d "$d/tools/hcl-oracle" ]; then
		(cd "$d" && pwd)
		exit 0
	fi
done
echo "no shared directory with compat/flywall and tools/hcl-oracle; set MOAT_SHARED" >&2
exit 1

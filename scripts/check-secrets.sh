#!/usr/bin/env bash
# Greps every log and output file the tests wrote under DIR for the secret of its test: each test
# directory holds its secret in a file named `secret` (TestSupport.writeSecret). Prints each leak
# and exits 1 if there is one. scripts/test.sh runs it after the tests.
set -uo pipefail
root=${1:?DIR}
leaks=0; checked=0
while IFS= read -r -d '' s; do
  d=$(dirname "$s")
  v=$(head -n 1 "$s")
  [ -n "$v" ] || continue
  checked=$((checked + 1))
  while IFS= read -r -d '' f; do
    if grep -qF -- "$v" "$f"; then echo "secret found in $f" >&2; leaks=$((leaks + 1)); fi
  done < <(find "$d" -type f \( -name '*.err' -o -name '*.out' -o -name '*.log' -o -name '*.jsonl' \) -print0)
done < <(find "$root" -maxdepth 2 -type f -name secret -print0)
echo "secret check: $checked test directories, every log and output file read, $leaks leaks"
[ "$leaks" -eq 0 ]

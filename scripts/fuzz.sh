#!/usr/bin/env bash
# Runs every fuzz target of the module, each on its own for
# LEADR_FUZZTIME (default 3s): every `func FuzzXxx(` in the module's
# *_test.go files, found afresh on each run, so a new target joins without
# anyone listing it. Stops at the first failure and names the target.
#
# Each run starts with the target's seeds (its f.Add calls and its committed
# corpus, testdata/fuzz/FuzzXxx/ next to the test) and then mutates them.
# When fuzzing finds a failing input, go test writes it to
# testdata/fuzz/FuzzXxx/<hash> in the target's package (the path is in the
# output below): commit it with the fix, and from then on plain `go test`
# replays it as a regression test.
#
# Usage: scripts/fuzz.sh   (LEADR_FUZZTIME=30s scripts/fuzz.sh for longer)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
fuzztime=${LEADR_FUZZTIME:-3s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# The module's own package directories: go list leaves out nested modules
# (test/downstream), testdata and vendor.
# A target is Fuzz, or Fuzz and a name that does not start in lower case,
# as go test has it.
root=$PWD
targets=()
while IFS= read -r dir; do
  rel=.${dir#"$root"}/
  for file in "$dir"/*_test.go; do
    [[ -f $file ]] || continue
    while IFS= read -r name; do
      targets+=("$rel $name")
    done < <(grep -oE '^func Fuzz([^a-z(][A-Za-z0-9_]*)?\(' "$file" | sed 's/^func //; s/($//')
  done
done < <(go list -e -f '{{.Dir}}' ./... | sort)
((${#targets[@]})) || { echo "fuzz: no fuzz targets found" >&2; exit 1; }

start=$SECONDS
for t in "${targets[@]}"; do
  pkg=${t% *} name=${t#* }
  began=$SECONDS
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" >"$out" 2>&1; then
    cat "$out" >&2
    echo "fuzz: FAILED: $name in $pkg (an input that fuzzing found is written under ${pkg}testdata/fuzz/$name/)" >&2
    exit 1
  fi
  # A target that did not run (a build tag left it out, say) is not a pass.
  if grep -q 'no fuzz tests to fuzz' "$out"; then
    cat "$out" >&2
    echo "fuzz: FAILED: $name in $pkg did not run" >&2
    exit 1
  fi
  echo "fuzz: ok $name $pkg ($((SECONDS - began))s)" >&2
done
echo "fuzz: ${#targets[@]} targets, ${fuzztime} each, passed in $((SECONDS - start))s" >&2

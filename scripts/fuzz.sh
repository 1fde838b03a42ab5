#!/usr/bin/env bash
# Bad input and faults, with one summary: runs the schema-driven fuzz of the
# JSON API (tests/fuzz_the_json_api.rs) and the fault tests
# (tests/keep_working_through_faults.rs) against the real control plane and a
# real Postgres, then prints what they tried and what survived.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ensure_commands cargo go openssl python3 curl
ensure_debian_packages postgresql
[[ -n "${DATAPORT_TEST_POSTGRES_URL:-}" ]] || start_postgres

out=$(mktemp)
at_exit 'rm -f "$out"'
status=0
cargo test --locked --test fuzz_the_json_api --test keep_working_through_faults \
  -- --nocapture >"$out" 2>&1 || status=$?

python3 - "$out" "$status" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
fuzz = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in text.splitlines() if line.startswith("FUZZ ")]
faults = re.findall(r'^FAULT fault="([^"]*)" survived=(\w+) rows_lost=(\d+)', text, re.M)
bad = sum(int(f["bad_inputs"]) for f in fuzz)
server_errors = sum(int(f["answers_5xx"]) for f in fuzz)
panics = sum(int(f["panics"]) for f in fuzz) + len(re.findall(r"panicked at src/", text))
survived = sum(1 for _, ok, _ in faults if ok == "true")
lost = sum(int(f["rows_lost"]) for f in fuzz) + sum(int(n) for _, _, n in faults)
print("\nbad input and faults")
print(f"  bad inputs tried       {bad:>6}   (at least 200)")
print(f"  5xx answers            {server_errors:>6}   (must be 0)")
print(f"  panics                 {panics:>6}   (must be 0)")
print(f"  faults injected        {4:>6}")
print(f"  faults survived        {survived:>6}")
for name, ok, _ in faults:
    print(f"    - {name}: {'survived' if ok == 'true' else 'NOT survived'}")
print(f"  rows lost              {lost:>6}   (must be 0)")
ok = int(sys.argv[2]) == 0 and bad >= 200 and server_errors == 0 and panics == 0 and survived == 4 and lost == 0
print("  verdict                " + ("met" if ok else "NOT met"))
if not ok:
    print(text[-4000:])
sys.exit(0 if ok else 1)
PY

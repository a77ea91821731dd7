# shellcheck shell=bash
# The set-up every capstone script shares: sourced, never run. See capstone/README.md.
#
# Exit codes of every script, following `mlops-course` itself: 0 the workflow did what it
# set out to do; 1 it ran to the end and its decisive check said no (each script says which);
# 2 a step failed: the script stopped there, with one line naming the step and its exit code.

set -euo pipefail

# The command to use: the one on PATH, or another (the tests point it at the venv's).
MLOPS_COURSE=${MLOPS_COURSE:-mlops-course}
# Names: the registered model (made `<you>.NAME` by `registry register`, as every course
# command names it), the experiments (`<you>/$CAPSTONE_EXPERIMENT-...`), the hold-out data.
CAPSTONE_MODEL=${CAPSTONE_MODEL:-capstone-maintenance}
CAPSTONE_EXPERIMENT=${CAPSTONE_EXPERIMENT:-capstone}
CAPSTONE_ROWS=${CAPSTONE_ROWS:-2000}
CAPSTONE_SEED=${CAPSTONE_SEED:-0}
# One run of a script: its monitoring experiment and working folder are new each time, so a
# script can be run again and again (its days start at 0 again).
CAPSTONE_RUN=${CAPSTONE_RUN:-$(date -u +%Y%m%dT%H%M%SZ)-$$}
CAPSTONE_WORK=${CAPSTONE_WORK:-${TMPDIR:-/tmp}/capstone-$CAPSTONE_RUN}

STEP_FAILED=2
SCRIPT_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }

die() {  # die MESSAGE: stop the script with exit code 2
    say "$*"
    exit "$STEP_FAILED"
}

# step [--allow CODE] NAME COMMAND [ARG...]: print the step, run it; any exit code but 0 (and
# CODE, a verdict the script reads from STEP_RC) stops the script with the step's name.
# The command's stdout is the step's stdout (redirect it to keep a --json answer).
STEP_RC=0
step() {
    local allowed=" 0 "
    if [[ ${1-} == --allow ]]; then
        allowed+="$2 "
        shift 2
    fi
    local name=$1
    shift
    printf '\n==> %s: step "%s": %s\n' "$SCRIPT_NAME" "$name" "$*" >&2
    STEP_RC=0
    local started=$SECONDS
    "$@" || STEP_RC=$?
    if [[ $allowed != *" $STEP_RC "* ]]; then
        die "step \"$name\" failed (exit $STEP_RC): $*"
    fi
    printf '    (%s: exit %d, %d s)\n' "$name" "$STEP_RC" "$((SECONDS - started))" >&2
}

if ! command -v "$MLOPS_COURSE" >/dev/null 2>&1; then
    die "no $MLOPS_COURSE command: activate the course's virtualenv (make shell), or set MLOPS_COURSE."
fi
# The Python that has mlops_course: next to the mlops-course command, unless told otherwise.
if [[ -z ${CAPSTONE_PYTHON:-} ]]; then
    CAPSTONE_PYTHON=$(dirname "$(command -v "$MLOPS_COURSE")")/python
    [[ -x $CAPSTONE_PYTHON ]] || CAPSTONE_PYTHON=python3
fi
mkdir -p "$CAPSTONE_WORK"

# json_get FILE KEY[.KEY...]: one value of a JSON file, a number indexing a list; objects,
# lists, booleans and null printed as JSON (true, null...). A missing key is an error.
json_get() {
    "$CAPSTONE_PYTHON" - "$@" <<'PY'
import json
import sys

value = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else json.dumps(value))
PY
}

# json_value FILE KEY: json_get, for `VAR=$(json_value ...)`: a missing value stops the script.
json_value() {
    json_get "$@" || die "step \"read $2 from $(basename "$1")\" failed: see the line above."
}

# write_days FOLDER DAYS ROWS_PER_DAY KIND DRIFT_DAY: the day files of the generated
# production stream (day_NNN.csv: ids and features; day_NNN_labels.csv: the `target`).
# Not a lifecycle step, and no `mlops-course` command writes them: in production these files
# arrive from the plant. The stream's training part is the data `train` used (same rows and
# seed), so it is the same fleet of machines.
write_days() {
    "$CAPSTONE_PYTHON" - "$@" "$CAPSTONE_ROWS" "$CAPSTONE_SEED" <<'PY'
import sys
from pathlib import Path

from mlops_course.data import maintenance_stream

folder, days, rows, kind, drift_day, reference, seed = sys.argv[1:]
stream = maintenance_stream(
    days=int(days), rows_per_day=int(rows), drift_day=int(drift_day), kind=kind,
    reference_size=int(reference), seed=int(seed),
)
for batch in stream.batches:
    batch.frame(labels=False).to_csv(Path(folder) / f"day_{batch.day:03d}.csv", index=False)
    batch.y.to_frame().to_csv(Path(folder) / f"day_{batch.day:03d}_labels.csv", index=False)
print(f"{len(stream.batches)} days of {rows} rows in {folder} ({kind} drift from day {drift_day})")
PY
}

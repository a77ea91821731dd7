#!/usr/bin/env bash
# Workflow 3, the batch prediction pipeline a scheduler runs once a day: score the day's CSV
# with @champion, track the day, add yesterday's labels when they arrive, and at the end check
# whether accuracy degraded. Needs a model with a @champion (workflow 1).
#
# Exit codes (those of `mlops-course monitor check-degradation`, so a scheduler can alert):
# 0 no degradation; 1 DEGRADED: the last window's accuracy fell more than the threshold below
# the window before it; 2 a step failed (its name is printed).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

WINDOW=${CAPSTONE_WINDOW:-3}                 # labelled days in each mean of the check
DAYS=${CAPSTONE_DAYS:-$((2 * WINDOW))}       # the check needs 2 windows of labelled days
ROWS_PER_DAY=${CAPSTONE_ROWS_PER_DAY:-200}
DRIFT=${CAPSTONE_DRIFT:-none}                # none | data | concept: what the stream does
DRIFT_DAY=${CAPSTONE_DRIFT_DAY:-$WINDOW}     # its first drifted day
THRESHOLD=${CAPSTONE_THRESHOLD:-0.05}        # relative drop that counts as degraded
MONITORING=$CAPSTONE_EXPERIMENT-monitoring-$CAPSTONE_RUN
WORK=$CAPSTONE_WORK
say "working in $WORK"

step "server" "$MLOPS_COURSE" server start
step "find the model" "$MLOPS_COURSE" registry details "$CAPSTONE_MODEL" --json \
    >"$WORK/details.json"
MODEL=$(json_value "$WORK/details.json" name)
json_get "$WORK/details.json" aliases.champion >/dev/null 2>&1 ||
    die "step \"find the model\" failed: $MODEL has no @champion; run 01_train_to_production.sh first."

step "the plant's day files" write_days "$WORK" "$DAYS" "$ROWS_PER_DAY" "$DRIFT" "$DRIFT_DAY"

# add_labels DAY VERSION: the day's labels have arrived: track them into that day's run, with
# the version that predicted that day.
add_labels() {
    local file
    file=$(printf '%s/day_%03d' "$WORK" "$1")
    step "day $1: labels" "$MLOPS_COURSE" monitor track --model-name "$MODEL" --version "$2" \
        --input "$file.csv" --labels "${file}_labels.csv" --day "$1" \
        --experiment "$MONITORING" --json >"${file}_labelled.json"
}

previous_version=""
for ((day = 0; day < DAYS; day++)); do
    file=$(printf '%s/day_%03d' "$WORK" "$day")
    # Module 03: today's file, scored in chunks by the version @champion points to now.
    step "day $day: predict batch" "$MLOPS_COURSE" predict batch --model-name "$MODEL" \
        --alias champion --input "$file.csv" --output "${file}_predictions.csv" --json \
        >"${file}_predictions.json"
    version=$(json_value "${file}_predictions.json" model_version)
    # Module 05: the day tracked at once (its inputs and predictions), with that version.
    step "day $day: monitor track" "$MLOPS_COURSE" monitor track --model-name "$MODEL" \
        --version "$version" --input "$file.csv" --day "$day" --experiment "$MONITORING" \
        --json >"${file}_tracked.json"
    # Labels come a day late: yesterday's arrive today.
    if [[ -n $previous_version ]]; then
        add_labels "$((day - 1))" "$previous_version"
    fi
    previous_version=$version
done
add_labels "$((DAYS - 1))" "$previous_version"  # the last day's, the morning after

step "monitor report" "$MLOPS_COURSE" monitor report --experiment "$MONITORING" --days "$DAYS"
# Module 05: the last WINDOW labelled days against the WINDOW before them.
step --allow 1 "monitor check-degradation" "$MLOPS_COURSE" monitor check-degradation \
    --experiment "$MONITORING" --metric accuracy --window "$WINDOW" --baseline preceding \
    --threshold "$THRESHOLD" --json >"$WORK/check.json"
VERDICT=$STEP_RC
drop=$(json_value "$WORK/check.json" relative_drop)
if [[ $VERDICT == 1 ]]; then
    say "DEGRADED: accuracy fell by a relative $drop (threshold $THRESHOLD) in $MONITORING (exit 1)"
else
    say "done: no degradation (relative drop $drop, threshold $THRESHOLD) in $MONITORING"
fi
exit "$VERDICT"

#!/usr/bin/env bash
# Workflow 4, rollback: a new release becomes @champion, the plant's data drifts over the next
# days, the labelled days show accuracy falling, and @champion goes back to the version before;
# then the rollback is checked from the registry alone (aliases and tags).
# Stands alone: it registers its own two releases (on $CAPSTONE_MODEL, made if needed).
#
# Exit codes: 0 degradation detected, @champion rolled back and verified; 1 no degradation
# detected, nothing rolled back; 2 a step failed (its name is printed), including a
# rollback that the registry does not show.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

read -r -a RELEASES <<<"${CAPSTONE_RELEASES:-LogisticRegression RandomForest}"
WINDOW=${CAPSTONE_WINDOW:-3}                 # labelled days in each mean of the check
DAYS=${CAPSTONE_DAYS:-$((2 * WINDOW))}
ROWS_PER_DAY=${CAPSTONE_ROWS_PER_DAY:-200}
DRIFT=${CAPSTONE_DRIFT:-data}                # a heat wave and new vibration sensors
DRIFT_DAY=${CAPSTONE_DRIFT_DAY:-$((DAYS - WINDOW))}
THRESHOLD=${CAPSTONE_THRESHOLD:-0.05}
MONITORING=$CAPSTONE_EXPERIMENT-monitoring-$CAPSTONE_RUN
WORK=$CAPSTONE_WORK
say "working in $WORK"
[[ ${#RELEASES[@]} == 2 ]] || die "CAPSTONE_RELEASES names two models (the old release, the new), got: ${RELEASES[*]}"

step "server" "$MLOPS_COURSE" server start

# Modules 01 and 02: two releases; the first is @champion, then the second replaces it (its
# previous_version tag records where a rollback goes).
step "train" "$MLOPS_COURSE" train --models "${RELEASES[@]}" \
    --rows "$CAPSTONE_ROWS" --seed "$CAPSTONE_SEED" \
    --experiment "$CAPSTONE_EXPERIMENT-training" --json >"$WORK/train.json"
OLD_RUN=$(json_value "$WORK/train.json" runs.0.run_id)
NEW_RUN=$(json_value "$WORK/train.json" runs.1.run_id)
step "register the old release" "$MLOPS_COURSE" registry register \
    --run-id "$OLD_RUN" --name "$CAPSTONE_MODEL" \
    --alias champion --yes --json >"$WORK/old.json"
MODEL=$(json_value "$WORK/old.json" name)
OLD=$(json_value "$WORK/old.json" version)
step "register the new release" "$MLOPS_COURSE" registry register \
    --run-id "$NEW_RUN" --name "$MODEL" \
    --yes --json >"$WORK/new.json"
NEW=$(json_value "$WORK/new.json" version)
step "promote the new release" "$MLOPS_COURSE" registry promote "$MODEL" "$NEW" \
    --alias champion --reason "release ${RELEASES[1]} (capstone run $CAPSTONE_RUN)" --yes --json

# Module 05: the days in production, each tracked with its labels, with the version that
# @champion points to (the new release).
step "the plant's day files" write_days "$WORK" "$DAYS" "$ROWS_PER_DAY" "$DRIFT" "$DRIFT_DAY"
for ((day = 0; day < DAYS; day++)); do
    file=$(printf '%s/day_%03d' "$WORK" "$day")
    step "day $day: monitor track" "$MLOPS_COURSE" monitor track --model-name "$MODEL" \
        --alias champion --input "$file.csv" --labels "${file}_labels.csv" --day "$day" \
        --experiment "$MONITORING" --json >"${file}_tracked.json"
done
step --allow 1 "monitor check-degradation" "$MLOPS_COURSE" monitor check-degradation \
    --experiment "$MONITORING" --metric accuracy --window "$WINDOW" --baseline preceding \
    --threshold "$THRESHOLD" --json >"$WORK/check.json"
if [[ $STEP_RC == 0 ]]; then
    say "no degradation detected: @champion stays v$NEW, nothing rolled back (exit 1)"
    exit 1
fi
REASON=$("$CAPSTONE_PYTHON" - "$WORK/check.json" "$WINDOW" <<'PY'
import json
import sys

check = json.load(open(sys.argv[1]))
print(f"{check['metric']} fell {check['relative_drop']:.1%} ({check['baseline_mean']:.3f} -> "
      f"{check['recent_mean']:.3f}) over the last {sys.argv[2]} labelled days")
PY
) || die "step \"read the check\" failed: see $WORK/check.json"
say "DEGRADED: $REASON"

# Module 02: @champion back to the version its previous_version tag names.
step "registry rollback" "$MLOPS_COURSE" registry rollback "$MODEL" --alias champion \
    --reason "$REASON" --yes --json >"$WORK/rollback.json"

# The registry alone tells the story: who holds @champion, why the new release left.
step "registry details" "$MLOPS_COURSE" registry details "$MODEL" --json >"$WORK/details.json"
step "verify from the registry" "$CAPSTONE_PYTHON" - "$WORK/details.json" "$OLD" "$NEW" <<'PY'
import json
import sys

details, old, new = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
tags = {v["version"]: v["tags"] for v in details["versions"]}
problems = []
if details["aliases"].get("champion") != old:
    problems.append(f"@champion is v{details['aliases'].get('champion')}, not v{old}")
if not tags[new].get("rollback_reason"):
    problems.append(f"v{new} has no rollback_reason")
if tags[new].get("previous_version") != old:
    problems.append(f"v{new}'s previous_version is {tags[new].get('previous_version')}, not {old}")
print(f"@champion: v{details['aliases'].get('champion')} (aliases {details['aliases']})")
print(f"v{new}: rolled_back_by={tags[new].get('rolled_back_by')}, "
      f"rollback_reason={tags[new].get('rollback_reason')!r}")
print(f"v{old}: previous_version={tags[old].get('previous_version')} (a further step back)")
sys.exit("; ".join(problems) or None)
PY
say "done: @champion rolled back from v$NEW to v$OLD"

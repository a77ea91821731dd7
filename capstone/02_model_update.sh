#!/usr/bin/env bash
# Workflow 2, a model update decided by an A/B comparison: tune a challenger, register it as
# @challenger, validate it against @champion with McNemar's test (promoted only when the rules
# allow), then show the decision and its reason, and what the registry kept of them.
# Needs a model with a @champion (workflow 1).
#
# Exit codes (those of `mlops-course validate`): 0 the tuned model was promoted; 1 it was
# not, the champion stays; 2 a step failed (its name is printed).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

TUNE_MODEL=${CAPSTONE_TUNE_MODEL:-RandomForest}
TUNE_SEARCH=${CAPSTONE_TUNE_SEARCH:-random}
TUNE_ITER=${CAPSTONE_TUNE_ITER:-5}  # candidates of a random search
TUNE_CV=${CAPSTONE_TUNE_CV:-3}
WORK=$CAPSTONE_WORK
say "working in $WORK"

step "server" "$MLOPS_COURSE" server start

# Module 02: the model, by the name given (NAME or <you>.NAME), and its champion.
step "find the model" "$MLOPS_COURSE" registry details "$CAPSTONE_MODEL" --json \
    >"$WORK/before.json"
MODEL=$(json_value "$WORK/before.json" name)
CHAMPION=$(json_get "$WORK/before.json" aliases.champion 2>/dev/null) ||
    die "step \"find the model\" failed: $MODEL has no @champion; run 01_train_to_production.sh first."

# Module 01: the search (a parent run, one child per candidate); the parent holds the model
# refitted with the best candidate on the whole training split.
search=(--search "$TUNE_SEARCH")
[[ $TUNE_SEARCH == random ]] && search+=(--n-iter "$TUNE_ITER")
step "tune" "$MLOPS_COURSE" tune --model "$TUNE_MODEL" "${search[@]}" --cv "$TUNE_CV" \
    --rows "$CAPSTONE_ROWS" --seed "$CAPSTONE_SEED" \
    --experiment "$CAPSTONE_EXPERIMENT-tuning" --json >"$WORK/tune.json"
PARENT=$(json_value "$WORK/tune.json" parent_run_id)
BEST_PARAMS=$(json_value "$WORK/tune.json" best_params)
say "best parameters: $BEST_PARAMS"

# Module 02: the tuned model becomes a new version, labelled @challenger.
step "register" "$MLOPS_COURSE" registry register --run-id "$PARENT" --name "$MODEL" \
    --alias challenger --tag "tuning_run_id=$PARENT" --yes --json >"$WORK/register.json"
VERSION=$(json_value "$WORK/register.json" version)

# Module 04: McNemar's test on the paired predictions of the same hold-out split; the alias
# moves only when the decision rules say promote. Exit 1 (not promoted) is a verdict here.
step --allow 1 "validate" "$MLOPS_COURSE" validate --model-name "$MODEL" \
    --champion-alias champion --challenger-alias challenger \
    --dataset maintenance --rows "$CAPSTONE_ROWS" --seed "$CAPSTONE_SEED" \
    --auto-promote --experiment "$CAPSTONE_EXPERIMENT-validation" --json >"$WORK/validate.json"
VERDICT=$STEP_RC

# What the registry says now: the aliases, the version's validation tags, the latest
# validation (its run keeps the reason: validation.json).
step "registry details" "$MLOPS_COURSE" registry details "$MODEL" --json >"$WORK/after.json"
step "show the decision" "$CAPSTONE_PYTHON" - "$WORK/validate.json" "$WORK/after.json" "$VERSION" <<'PY'
import json
import sys

validation, details = (json.load(open(path)) for path in sys.argv[1:3])
version = sys.argv[3]
tags = next(v["tags"] for v in details["versions"] if v["version"] == version)
latest = details["validations"][0]
test = validation["mcnemar"] or {}
print(f"challenger v{version} vs champion v{validation['champion_version']}: "
      f"McNemar b={test.get('b')}, c={test.get('c')}, p={test.get('pvalue')}")
print(f"decision: {validation['decision']}, promoted: {validation['promoted']}")
print(f"reason: {validation['reason']}")
print(f"registry: aliases {details['aliases']}; v{version} validation_decision="
      f"{tags.get('validation_decision')}, validation_run_id={tags.get('validation_run_id')}")
print(f"latest validation run {latest['run_id']} ({latest['experiment']}): "
      f"decision {latest['decision']}, promoted {latest['promoted']}")
if latest["run_id"] != validation["run_id"] or tags.get("validation_run_id") != validation["run_id"]:
    sys.exit("the registry does not point at this validation run")
PY

if [[ $VERDICT == 0 ]]; then
    say "done: v$VERSION is the new @champion (was v$CHAMPION)"
else
    say "done: v$VERSION not promoted; @champion stays v$CHAMPION (exit 1)"
fi
exit "$VERDICT"

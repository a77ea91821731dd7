#!/usr/bin/env bash
# Workflow 1, training to production: train several models, register the best as @challenger,
# validate it against @champion (promoted when the rules allow, or when there is no champion
# yet), serve @champion, send it traffic, and track what it answered.
#
# Exit codes: 0 a champion is served and its traffic tracked (the new model promoted, or the
# old champion kept: the validation says which); 2 a step failed (its name is printed).
# The prediction server is stopped at the end, also when a step fails.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

read -r -a TRAIN_MODELS <<<"${CAPSTONE_TRAIN_MODELS:-RandomForest SVM_Linear LogisticRegression}"
TRAFFIC_ROWS=${CAPSTONE_TRAFFIC_ROWS:-100}  # rows sent to the API, 20 per request
MONITORING=$CAPSTONE_EXPERIMENT-monitoring-$CAPSTONE_RUN
WORK=$CAPSTONE_WORK
say "working in $WORK"

# Module 00: the tracking server (the course's local one, or MLFLOW_TRACKING_URI's).
step "server" "$MLOPS_COURSE" server start

# Module 01: one run per model, the best named by f1_macro.
step "train" "$MLOPS_COURSE" train --models "${TRAIN_MODELS[@]}" \
    --rows "$CAPSTONE_ROWS" --seed "$CAPSTONE_SEED" \
    --experiment "$CAPSTONE_EXPERIMENT-training" --json >"$WORK/train.json"
BEST_RUN=$(json_value "$WORK/train.json" best_run_id)

# Module 02: the best run's model becomes a new version, labelled @challenger.
step "register" "$MLOPS_COURSE" registry register --run-id "$BEST_RUN" \
    --name "$CAPSTONE_MODEL" --alias challenger --yes --json >"$WORK/register.json"
MODEL=$(json_value "$WORK/register.json" name)
VERSION=$(json_value "$WORK/register.json" version)

# Module 04: McNemar's test against @champion on the hold-out split `train` kept; exit 0
# promoted, 1 not (the champion stays), 2 error. The first model has no champion to beat.
step --allow 1 "validate" "$MLOPS_COURSE" validate --model-name "$MODEL" \
    --dataset maintenance --rows "$CAPSTONE_ROWS" --seed "$CAPSTONE_SEED" \
    --auto-promote --experiment "$CAPSTONE_EXPERIMENT-validation" --json >"$WORK/validate.json"
REASON=$(json_value "$WORK/validate.json" reason)
if [[ $STEP_RC == 0 ]]; then
    say "v$VERSION promoted to @champion: $REASON"
else
    say "v$VERSION not promoted, the champion stays: $REASON"
fi

# Module 03: serve @champion on this machine only, every answer logged for monitoring.
PORT=$(step "find a free port" "$CAPSTONE_PYTHON" -c \
    'from mlops_course.proc import free_port; print(free_port())')
URL=http://127.0.0.1:$PORT
LOG=$WORK/predictions.csv
SERVE_PID=""
stop_serving() {
    if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
        say "stopping the prediction server (PID $SERVE_PID)"
        kill "$SERVE_PID"
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    SERVE_PID=""
}
trap stop_serving EXIT
trap 'exit 130' INT TERM  # exit through the EXIT trap: the server never outlives the script
printf '\n==> %s: step "serve": %s serve --model-name %s --alias champion --port %s\n' \
    "$SCRIPT_NAME" "$MLOPS_COURSE" "$MODEL" "$PORT" >&2
"$MLOPS_COURSE" serve --model-name "$MODEL" --alias champion --host 127.0.0.1 --port "$PORT" \
    --log-predictions "$LOG" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
echo "$SERVE_PID" >"$WORK/serve.pid"
# No mlops-course command asks a running server anything: curl waits for /health.
for _ in $(seq 120); do
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
        tail -n 5 "$WORK/serve.log" >&2
        die "step \"serve\" failed: the server exited (its log: $WORK/serve.log)"
    fi
    curl -fsS --max-time 2 "$URL/health" >/dev/null 2>&1 && break
    sleep 0.5
done
step "serve: health" curl -fsS --max-time 2 -o "$WORK/health.json" "$URL/health"
CHAMPION=$(json_value "$WORK/health.json" model_version)
say "serving $MODEL v$CHAMPION (@champion) at $URL"

# Traffic: a day of readings from the plant (see write_days), sent to /predict/batch with curl:
# `mlops-course predict realtime` loads the model itself, it sends no request to a server.
# Only complete rows: the API refuses null readings (its validation of module 03).
step "traffic: a day of readings" write_days "$WORK" 1 "$TRAFFIC_ROWS" none 0 >&2
step "traffic: requests" "$CAPSTONE_PYTHON" - "$WORK/day_000.csv" "$WORK" <<'PY'
import json
import sys
from pathlib import Path

import pandas as pd

day = pd.read_csv(sys.argv[1]).drop(columns=["machine_id", "timestamp"])
rows = json.loads(day.dropna().to_json(orient="records"))
for i in range(0, len(rows), 20):
    body = json.dumps({"instances": rows[i : i + 20]})
    Path(sys.argv[2], f"request_{i // 20:03d}.json").write_text(body)
print(f"{len(rows)} complete rows of {len(day)} in {-(-len(rows) // 20)} requests")
PY
for request in "$WORK"/request_*.json; do
    step "traffic: POST /predict/batch" curl -fsS --max-time 30 -o /dev/null \
        -H 'Content-Type: application/json' --data "@$request" "$URL/predict/batch"
done

# Module 05: what production answered, tracked as day 0 of a new monitoring experiment (its
# inputs and predictions; the labels come later: workflow 3 adds them day by day).
step "monitor track" "$MLOPS_COURSE" monitor track --model-name "$MODEL" --version "$CHAMPION" \
    --input "$LOG" --day 0 --experiment "$MONITORING" --json \
    >"$WORK/track.json"
step "serve: stop" stop_serving
ANSWERS=$(json_value "$WORK/track.json" rows)
say "done: $MODEL @champion = v$CHAMPION served at $URL; its $ANSWERS answers tracked in $MONITORING"

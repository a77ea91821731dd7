"""Plausible mistakes in module 03 (solutions/serving.py), each caught by the graded tests."""

from mutantlib import Mutant

MUTANTS: list[Mutant] = [
    # 3.1 validate_rows
    Mutant(
        "3.1",
        "accepts true/false in a number column (isinstance: bool is an int)",
        "if not all(type(v) is float or type(v) is int for v in cells):",
        "if not all(isinstance(v, int | float) for v in cells):",
    ),
    Mutant(
        "3.1",
        "lets NaN and infinity through",
        "            if not np.isfinite(numbers).all():\n                return False\n",
        "",
    ),
    Mutant(
        "3.1",
        "refuses a batch of exactly batch_limit rows (>= for >)",
        "if len(rows) > batch_limit:",
        "if len(rows) >= batch_limit:",
    ),
    Mutant(
        "3.1",
        "takes a dict row's values in the client's key order",
        "row = [row[c] for c in columns]",
        "row = list(row.values())",
    ),
    Mutant(
        "3.1",
        "reports only the missing names, not the unknown ones",
        "unknown = [k for k in row if k not in columns]",
        "unknown = []",
    ),
    Mutant(
        "3.1",
        "truncates 1.5 in a whole-number column instead of refusing it",
        '            if kind in ("double", "float"):\n                return True\n',
        '            if kind in ("double", "float", "long", "integer"):\n                return True\n',
    ),
    Mutant(
        "3.1",
        "answers an oversized batch with 422, not 413",
        'f"batch of {len(rows)} rows is over the limit of {batch_limit}", status_code=413',
        'f"batch of {len(rows)} rows is over the limit of {batch_limit}"',
    ),
    # 3.2 create_app
    Mutant(
        "3.2",
        "forgets the exception handler: every InvalidInput becomes a 500",
        "    @app.exception_handler(InvalidInput)\n    async def invalid_input(",
        "    async def invalid_input(",
    ),
    Mutant(
        "3.2",
        "drops the class probabilities from /predict",
        '"probabilities": out["probabilities"][0] if out["probabilities"] else None,',
        '"probabilities": None,',
    ),
    Mutant(
        "3.2",
        "/predict only reads {'features': ...}, not bare named values",
        'row = body["features"] if set(body) == {"features"} else body',
        'row = body.get("features")',
    ),
    Mutant(
        "3.2",
        "/predict/batch ignores the app's batch_limit",
        '            body["instances"], served.columns, served.types, batch_limit=batch_limit\n'
        "        )\n        return predict_frame(served, frame)",
        '            body["instances"], served.columns, served.types\n'
        "        )\n        return predict_frame(served, frame)",
    ),
    Mutant(
        "3.2",
        '/health says model_loaded "yes" instead of true',
        '{"status": "ok", "model_loaded": True, "model_version": app.state.served.version}',
        '{"status": "ok", "model_loaded": "yes", "model_version": app.state.served.version}',
    ),
    # 3.3 parse_scoring_payload
    Mutant(
        "3.3",
        "dataframe_split by position: ignores the order of its columns",
        "if names == columns:  # the usual case",
        "if True:  # the usual case",
    ),
    Mutant(
        "3.3",
        "accepts instances as bare lists (no column names)",
        "elif isinstance(content, list) and any(not isinstance(r, dict) for r in content):",
        "elif False:",
    ),
    Mutant(
        "3.3",
        "accepts a body with several format keys (takes the first)",
        "if len(keys) != 1:",
        "if not keys:",
    ),
    Mutant(
        "3.3",
        "an unknown format is a 422 instead of MLflow's 400",
        "            status_code=400,\n        )\n    fmt, content = keys[0], body[keys[0]]",
        "        )\n    fmt, content = keys[0], body[keys[0]]",
    ),
    # 3.4 reload_if_moved, /reload and polling
    Mutant(
        "3.4",
        "reloads every time, moved or not",
        "    if str(current.version) == str(served.version):\n        return None\n",
        "",
    ),
    Mutant(
        "3.4",
        "returns the model already served instead of loading the new version",
        "    return load_served_model(served.model_uri, tracking_uri=tracking_uri)\n",
        "    return served\n",
    ),
    Mutant(
        "3.4",
        "/reload reloads but keeps serving the old model",
        "        if new is not None:\n            app.state.served = new\n        return {",
        "        return {",
    ),
    Mutant(
        "3.4",
        "never starts the polling task",
        "task = asyncio.create_task(poll(app)) if poll_seconds else None",
        "task = None",
    ),
    # 3.5 predict_csv
    Mutant(
        "3.5",
        "reads the whole file at once",
        "chunks = pd.read_csv(input_path, chunksize=chunk_size)",
        "chunks = [pd.read_csv(input_path)]",
    ),
    Mutant(
        "3.5",
        "a timestamp per chunk instead of one per job",
        "prediction=predictions, predicted_at=predicted_at, model_version=served.version",
        "prediction=predictions,\n"
        '                predicted_at=datetime.now(UTC).isoformat(timespec="microseconds"),\n'
        "                model_version=served.version,",
    ),
    Mutant(
        "3.5",
        "local time without a UTC offset",
        'predicted_at = datetime.now(UTC).isoformat(timespec="seconds")\n    if chunks is None:',
        'predicted_at = datetime.now().isoformat(timespec="seconds")\n    if chunks is None:',
    ),
    Mutant(
        "3.5",
        "counts predictions of the last chunk only",
        "counts[label] = counts.get(label, 0) + count",
        "counts[label] = count",
    ),
    Mutant(
        "3.5",
        "writes straight into the output: a failure part-way destroys the old file",
        "    partial = Path(name)\n",
        "    Path(name).unlink()\n    partial = output_path\n",
    ),
    Mutant(
        "3.5",
        "writes the header with every chunk",
        'mode="w" if header else "a", header=header, index=False',
        'mode="w" if header else "a", header=True, index=False',
    ),
    # 3.6 create_ab_app (open exercise)
    Mutant(
        "3.6",
        "ignores the header: the champion always answers",
        "alias = request.headers.get(ALIAS_HEADER, aliases[0])",
        "alias = aliases[0]",
    ),
    Mutant(
        "3.6",
        "an unknown alias silently gets the champion",
        "        if alias not in models:\n            raise InvalidInput(",
        "        if alias not in models:\n            alias = aliases[0]\n        if False:\n"
        "            raise InvalidInput(",
    ),
    Mutant(
        "3.6",
        "reports the champion's version whoever answered",
        '"model_version": served.version,\n            "alias": alias,',
        '"model_version": models[aliases[0]].version,\n            "alias": alias,',
    ),
    Mutant(
        "3.6",
        "no exception handler: bad rows become a 500",
        "    @app.exception_handler(InvalidInput)\n    async def refuse(",
        "    async def refuse(",
    ),
]

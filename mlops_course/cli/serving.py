"""``mlops-course serve``: the course's prediction API (module 03) for a registered model."""

from __future__ import annotations

import argparse

from mlops_course.cli import args as argtypes
from mlops_course.cli.args import Subparsers


def register(sub: Subparsers) -> None:
    from mlops_course.cli.serving_runtime import (
        BODY_TIMEOUT,
        FOLLOW_SECONDS,
        HEADER_TIMEOUT,
        LOG_MAX_ROWS,
    )
    from mlops_course.cli.serving_support import add_model_arguments

    p = sub.add_parser(
        "serve",
        help="serve a registered model over HTTP (/predict, /predict/batch, /invocations)",
        description="Serve a model with the course's FastAPI app (solutions of module 03): "
        "/health, /model/info, /predict, /predict/batch, /ping, /invocations, /reload.",
    )
    add_model_arguments(p)
    p.add_argument(
        "--host",
        type=argtypes.local_host,
        default="127.0.0.1",
        help="an address of this machine to listen on (default 127.0.0.1; 0.0.0.0 = every one)",
    )
    p.add_argument(
        "--port", type=argtypes.port_or_zero, default=8000, help="port (default 8000; 0 = any free)"
    )
    p.add_argument(
        "--batch-limit", type=argtypes.positive_int, default=1000, help="most rows per request"
    )
    p.add_argument(
        "--max-body-bytes",
        type=argtypes.positive_int,
        default=1_000_000,
        help="largest request body",
    )
    follow = p.add_mutually_exclusive_group()
    follow.add_argument(
        "--poll-seconds",
        type=argtypes.positive_float,
        default=FOLLOW_SECONDS,
        help=f"look for a moved alias this often (default {FOLLOW_SECONDS:g} seconds)",
    )
    follow.add_argument(
        "--no-follow",
        action="store_true",
        help="keep the version loaded at start, even when its alias moves (POST /reload moves)",
    )
    p.add_argument(
        "--log-predictions",
        type=argtypes.output_file,
        metavar="FILE",
        help="append every answered row to this CSV (time, request id, version, features, "
        "prediction): what `mlops-course monitor track --input FILE` tracks",
    )
    p.add_argument(
        "--log-max-rows",
        type=argtypes.positive_int,
        default=LOG_MAX_ROWS,
        help=f"rows in the log before it moves to FILE.1 (default {LOG_MAX_ROWS:,})",
    )
    p.add_argument(
        "--header-timeout",
        type=argtypes.positive_float,
        default=HEADER_TIMEOUT,
        metavar="SECONDS",
        help=f"close a connection whose request headers take longer (default {HEADER_TIMEOUT:g})",
    )
    p.add_argument(
        "--body-timeout",
        type=argtypes.positive_float,
        default=BODY_TIMEOUT,
        metavar="SECONDS",
        help=f"answer 408 to a request whose body takes longer (default {BODY_TIMEOUT:g})",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_course import target
    from mlops_course.cli.serving_runtime import (
        VERSION_HEADER,
        PredictionLog,
        follow_alias,
        guarded_server_config,
    )
    from mlops_course.cli.serving_support import (
        load_or_explain,
        model_uri_from_args,
        tracking_uri_or_error,
    )
    from mlops_course.proc import free_port, port_is_free

    model_uri_from_args(args)  # bad options are refused before anything else
    port = args.port or free_port()
    if not port_is_free(port, args.host):
        raise argtypes.CliError(
            f"port {port} on {args.host} is in use: pick another with --port, or --port 0 "
            "for any free one."
        )
    log = None  # refused here (not a prediction log already?) before anything is loaded
    if args.log_predictions:
        log = PredictionLog(args.log_predictions, max_rows=args.log_max_rows)
    tracking_uri = tracking_uri_or_error()
    model_uri = model_uri_from_args(args, tracking_uri)  # a short name: <you>.<name>
    load_or_explain(model_uri, tracking_uri)  # fail here, with advice, not inside uvicorn

    import uvicorn

    serving = target.load("serving", "solutions")
    poll = None if args.no_follow else args.poll_seconds
    app = serving.create_app(
        model_uri,
        tracking_uri=tracking_uri,
        batch_limit=args.batch_limit,
        max_body_bytes=args.max_body_bytes,
        poll_seconds=poll,
    )
    follow_alias(app, lambda line: print(line, flush=True), log=log)
    served = app.state.served
    base = f"http://{args.host}:{port}"
    print(f"Serving {model_uri} (version {served.version}) at {base}", flush=True)
    if served.alias and poll:
        print(
            f"  follows @{served.alias}: a moved alias is served within {poll:g} s "
            f"(--no-follow to keep version {served.version}); each answer says its version "
            f"(model_version, header {VERSION_HEADER})",
            flush=True,
        )
    elif served.alias:
        print(f"  keeps version {served.version}: POST {base}/reload to follow @{served.alias}")
    if log is not None:
        print(
            f"  logs every answer to {log.path} (at most {2 * log.max_rows:,} rows with "
            f"{log.rotated().name}): `mlops-course monitor track --model-name {served.name} "
            f"--input {log.path}` tracks it",
            flush=True,
        )
    print(f"  try: curl {base}/model/info   ·   API docs: {base}/docs", flush=True)
    config = guarded_server_config(
        app,
        host=args.host,
        port=port,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:  # uvicorn logged why (the port taken meanwhile, most often)
        raise argtypes.CliError(f"could not listen on {args.host}:{port}: see the log above.")
    return 0

"""``mlops-course serve``: the course's prediction API (module 03) for a registered model."""

from __future__ import annotations

import sys


def register(sub) -> None:
    from mlops_course.serving_tools import add_model_arguments

    p = sub.add_parser(
        "serve",
        help="serve a registered model over HTTP (/predict, /predict/batch, /invocations)",
        description="Serve a model with the course's FastAPI app (solutions of module 03): "
        "/health, /model/info, /predict, /predict/batch, /ping, /invocations, /reload.",
    )
    add_model_arguments(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    p.add_argument("--batch-limit", type=int, default=1000, help="most rows per request")
    p.add_argument("--max-body-bytes", type=int, default=1_000_000, help="largest request body")
    p.add_argument(
        "--poll-seconds",
        type=float,
        default=None,
        help="look for a moved alias this often (default: only on POST /reload)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from mlops_course import target
    from mlops_course.serving_tools import (
        CommandError,
        free_port,
        load_or_explain,
        model_uri_from_args,
        port_is_free,
        tracking_uri_or_error,
    )

    try:
        model_uri = model_uri_from_args(args)
        port = args.port or free_port()
        if not port_is_free(args.host, port):
            raise CommandError(
                f"port {port} on {args.host} is in use: pick another with --port, or --port 0 "
                "for any free one."
            )
        tracking_uri = tracking_uri_or_error()
        load_or_explain(model_uri, tracking_uri)  # fail here, with advice, not inside uvicorn
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    serving = target.load("serving", "solutions")
    app = serving.create_app(
        model_uri,
        tracking_uri=tracking_uri,
        batch_limit=args.batch_limit,
        max_body_bytes=args.max_body_bytes,
        poll_seconds=args.poll_seconds,
    )
    served = app.state.served
    base = f"http://{args.host}:{port}"
    print(f"Serving {model_uri} (version {served.version}) at {base}", flush=True)
    print(f"  try: curl {base}/model/info   ·   API docs: {base}/docs", flush=True)
    uvicorn.run(app, host=args.host, port=port, log_level="warning", access_log=False)
    return 0

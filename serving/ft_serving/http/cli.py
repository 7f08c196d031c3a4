"""``ft-serve``: the classifier over HTTP, bound to 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn

from ft_serving.http.app import ServeConfig, create_app
from ft_serving.http.headers_deadline import with_headers_deadline
from ft_serving.http.inference import PoolSettings
from ft_serving.http.limits import Limits, is_positive_seconds
from ft_serving.predict_cli import _positive_int
from ft_serving.spec import BundleError

EXIT_USAGE = 2
_MAX_PORT = 65535
# Seconds requests in flight get to finish once asked to stop (Limits.body_timeout_s stays below it).
GRACEFUL_SHUTDOWN_S = 30


def build_parser() -> argparse.ArgumentParser:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="ft-serve",
        description="Serve an ONNX bundle over HTTP. By default it serves the production model under "
        "$FT_ARTIFACTS_DIR and switches to each newly promoted one; --model DIR serves one fixed bundle.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port; 0 picks a free one")
    parser.add_argument("--model", type=Path, help="serve this bundle folder and never swap")
    parser.add_argument(
        "--artifacts-dir", help="artifact root to follow, a folder or s3:// URI (default $FT_ARTIFACTS_DIR)"
    )
    parser.add_argument("--cache", type=Path, help="where bundles of a remote artifact root are fetched to")
    parser.add_argument("--int8", action="store_true", help="serve model.int8.onnx")
    parser.add_argument(
        "--workers", type=_positive_int, default=cpus, help=f"inference threads (default {cpus})"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=ServeConfig.threads,
        help="onnxruntime threads per inference (default %(default)s)",
    )
    parser.add_argument(
        "--micro-batching", action="store_true", help="merge concurrent requests into one onnxruntime call"
    )
    parser.add_argument(
        "--batch-wait-ms",
        type=float,
        default=PoolSettings.batch_wait_ms,
        help="with --micro-batching: wait this long for more requests (default %(default)s)",
    )
    parser.add_argument(
        "--max-batch",
        type=_positive_int,
        default=PoolSettings.max_batch,
        help="texts per onnxruntime call (default %(default)s)",
    )
    parser.add_argument(
        "--max-pending",
        type=_positive_int,
        default=PoolSettings.max_pending,
        help="queued requests before 503 (default %(default)s)",
    )
    parser.add_argument("--max-body-bytes", type=_positive_int, default=Limits.max_body_bytes)
    parser.add_argument("--max-texts", type=_positive_int, default=Limits.max_texts, help="texts per request")
    parser.add_argument(
        "--body-timeout",
        type=_positive_seconds,
        default=Limits.body_timeout_s,
        help=(
            "seconds a request body may take to arrive before 408, and a connection its request headers "
            "before it is closed (default %(default)s)"
        ),
    )
    parser.add_argument(
        "--poll-interval",
        type=_positive_seconds,
        default=ServeConfig.poll_interval_s,
        help="seconds between pointer checks (default %(default)s)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def _port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= _MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be 0-{_MAX_PORT}, got {number}")
    return number


def _positive_seconds(value: str) -> float:
    number = float(value)
    if not is_positive_seconds(number):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {value}")
    return number


def connection_limit(pool: PoolSettings) -> int:
    """Connections before uvicorn answers 503: the admitted requests and as many again arriving, idle
    or probing. It bounds the bodies slow clients can make the server buffer (this x max_body_bytes)."""
    return 2 * pool.max_pending


def config_from(args: argparse.Namespace) -> ServeConfig:
    return ServeConfig(
        model_dir=args.model,
        artifacts_root=args.artifacts_dir,
        cache_dir=args.cache,
        int8=args.int8,
        threads=args.threads,
        poll_interval_s=args.poll_interval,
        limits=Limits(
            max_body_bytes=args.max_body_bytes, max_texts=args.max_texts, body_timeout_s=args.body_timeout
        ),
        pool=PoolSettings(
            workers=args.workers,
            batching=args.micro_batching,
            batch_wait_ms=args.batch_wait_ms,
            max_batch=args.max_batch,
            max_pending=args.max_pending,
        ),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s ft-serve: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = config_from(args)
        # A fixed bundle that cannot serve is a start-up error, reported in one line.
        model = config.load(args.model) if args.model is not None else None
        app = create_app(config, model)
    except (BundleError, ValueError, OSError) as error:
        print(f"ft-serve: {error}", file=sys.stderr)
        return EXIT_USAGE
    # Binding here (not in uvicorn) lets --port 0 report the port it got before serving starts.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except (OSError, TypeError) as error:  # TypeError: a host name that cannot be encoded
        reason = getattr(error, "strerror", None) or error
        print(f"ft-serve: cannot bind {args.host}:{args.port}: {reason}", file=sys.stderr)
        sock.close()
        return EXIT_USAGE
    sock.listen(2048)
    host, port = sock.getsockname()[:2]
    print(f"ft-serve: listening on http://{host}:{port}", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=args.log_level,
            access_log=args.access_log,
            limit_concurrency=connection_limit(config.pool),
            # Each connection must send its headers in the time its body gets: an idle or trickling
            # one would otherwise hold a place under the connection limit for ever.
            http=with_headers_deadline(config.limits.body_timeout_s),
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    )
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m devtools.stripe_emulator --port 12111 --webhook-url ...``."""

import argparse
import signal
import sys
import threading

from .emulator import Emulator


def main(argv=None) -> int:
    """Run the emulator in the foreground until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--webhook-secret", default="whsec_test")
    parser.add_argument("--api-key", default=None, help="accept only this secret key")
    parser.add_argument("--public-url", default=None, help="base URL used in hosted page links")
    parser.add_argument("--hold-events", action="store_true")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added before each /v1 answer"
    )
    parser.add_argument(
        "--max-rps",
        type=int,
        default=None,
        help="accepted /v1 requests per second before answering 429 (0: no limit)",
    )
    parser.add_argument(
        "--state-file",
        default=None,
        help="keep objects in this JSON file across restarts (default: memory only)",
    )
    args = parser.parse_args(argv)

    try:
        emulator = Emulator(
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            api_key=args.api_key,
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            hold_events=args.hold_events,
            latency=args.latency,
            max_requests_per_second=args.max_rps,
            state_file=args.state_file,
        )
    except ValueError as exc:
        # A negative --latency or --max-rps (or a state file that is not JSON):
        # a usage error, not a traceback.
        parser.error(str(exc))
    server = emulator.bind()

    stopping = False

    def stop(signum, frame):
        # Once: a second signal (Ctrl-C reaching the whole process group, then a
        # SIGTERM from `make run`) must not interrupt the final save below. A flag,
        # not SIG_IGN: a signal already pending when the handler changes raises
        # "ignored due to race condition".
        nonlocal stopping
        if stopping:
            return
        stopping = True
        # serve_forever() runs in this thread: ask it to return, from another thread
        # (shutdown() waits for it). Raising here instead could land in a callback the
        # handler happened to interrupt (a weakref's), which swallows the exception,
        # and the emulator would keep serving.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    # Also install for SIGINT: a backgrounded process may inherit SIGINT as ignored.
    signal.signal(signal.SIGINT, stop)
    print(f"Stripe emulator listening on {emulator.url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        stopping = True
        server.server_close()
        emulator.persist()
    return 0


if __name__ == "__main__":
    sys.exit(main())

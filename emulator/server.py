"""Local AWS emulator for stackctl: moto's server, seeded and patched.

Usage:
    emulator/.venv/bin/python emulator/server.py [--port 0] [--region us-east-1]
                                                 [--exit-with-stdin] [--verbose]

Prints exactly one line to stdout, the endpoint (``http://127.0.0.1:PORT``),
once the server is up, seeded and patched. Everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading

# Must be set before moto is imported: moto reads it when the IAM backend is
# built. AWS-managed policies (arn:aws:iam::aws:policy/...) exist in every
# real account, and stackctl attaches some of them.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
# AWS rejects RunInstances with an AMI that does not exist (InvalidAMIID.NotFound); moto only does when asked.
os.environ["MOTO_ENABLE_AMI_VALIDATION"] = "true"
# The seeding client inside this process needs credentials of some kind;
# moto accepts any. Never overrides what the caller set.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)"
    )
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="REGION",
        help="region to seed; repeatable (default: us-east-1)",
    )
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="exit when stdin reaches EOF (the parent process went away)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log every HTTP request to stderr"
    )
    args = parser.parse_args(argv)
    args.regions = list(dict.fromkeys(args.regions or ["us-east-1"]))
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)

    # stdout carries only the endpoint line: anything moto or a library
    # prints goes to stderr instead.
    endpoint_out = sys.stdout
    sys.stdout = sys.stderr

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="emulator: %(message)s"
    )
    # werkzeug logs each request at INFO; on stderr only with --verbose.
    logging.getLogger("werkzeug").setLevel(
        logging.INFO if args.verbose else logging.WARNING
    )

    from stackctl_emulator.faults import FaultInjector
    from stackctl_emulator.moto_server import LoggingMotoServer
    from stackctl_emulator.patches import apply_all
    from stackctl_emulator.request_log import RequestLog
    from stackctl_emulator.seed import seed_region

    # Every STACKCTL_EMULATOR_* setting is read and checked here, before the
    # server listens: a bad value exits with a message and no endpoint line.
    fault_injector = FaultInjector.from_environment()
    apply_all()

    request_log = RequestLog()
    server = LoggingMotoServer("127.0.0.1", args.port, request_log, fault_injector)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    for region in args.regions:
        seed_region(endpoint, region)
    # moto's start leaves millions of long-lived objects (service models, managed policies, AMI
    # and instance type catalogues). Python's full collections walk them all, pausing every
    # request for about half a second now and then, a stall AWS does not have: they are moved
    # out of the collector's reach. Objects made from here on are collected as usual.
    gc.collect()
    gc.freeze()
    # Seeding is not the tool's doing: start the log empty, and only fault
    # the tool's requests.
    request_log.clear()
    fault_injector.start()

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        logging.info("signal %d, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.exit_with_stdin:

        def watch_stdin() -> None:
            # Nothing is expected on stdin; reading until EOF is how we
            # notice the parent died (its end of the pipe closes).
            try:
                while sys.stdin.buffer.read1(65536):
                    pass
            except (OSError, ValueError):
                pass
            logging.info("stdin closed, stopping")
            stop.set()

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    logging.info("listening on %s, seeded %s", endpoint, ", ".join(args.regions))
    print(endpoint, file=endpoint_out, flush=True)

    while not stop.wait(1.0):
        pass

    # server.stop() waits for serve_forever to notice; don't let a stuck
    # request keep the process alive past a few seconds.
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(5.0)
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

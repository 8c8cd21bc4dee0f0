"""Runs a command on a pseudo-terminal, waits for its confirmation prompt and types Ctrl-C.

The terminal's line discipline turns ^C into SIGINT for the foreground process group, exactly as
when a person presses it. Prints one JSON line: the exit code and everything the terminal showed.

usage: ctrl_c_at_prompt.py PROMPT PROGRAM [ARGS...]
"""

import json
import os
import pty
import select
import signal
import sys
import time

TIMEOUT_SECONDS = 60


def main() -> None:
    prompt = sys.argv[1].encode()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    shown = b""
    typed = False
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        if not typed and prompt in shown:
            os.write(fd, b"\x03")
            typed = True
    done, status = 0, 0
    exit_deadline = time.monotonic() + 10
    while done == 0 and time.monotonic() < exit_deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if done == 0:  # still running: the test fails on the code
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    print(json.dumps({
        "code": os.waitstatus_to_exitcode(status),
        "prompted": typed,
        "output": shown.decode(errors="replace"),
    }))


if __name__ == "__main__":
    main()

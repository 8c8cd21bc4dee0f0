"""Runs a command with stderr (and, with --stdout-too, stdout) on a pseudo-terminal, stdin closed.

Without --stdout-too, stdout goes to a plain pipe, as `cmd > file` typed at a terminal does. Prints
one JSON line: the exit code, what stdout received, and what the terminal showed.

usage: on_terminal.py [--stdout-too] PROGRAM [ARGS...]
"""

import json
import os
import pty
import subprocess
import sys


def main() -> None:
    args = sys.argv[1:]
    stdout_too = args[:1] == ["--stdout-too"]
    if stdout_too:
        args = args[1:]
    master, slave = pty.openpty()
    child = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_too else subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    stdout = child.stdout.read() if child.stdout else b""
    code = child.wait(timeout=120)
    print(json.dumps({
        "code": code,
        "stdout": stdout.decode(errors="replace"),
        "terminal": shown.decode(errors="replace"),
    }))


if __name__ == "__main__":
    main()

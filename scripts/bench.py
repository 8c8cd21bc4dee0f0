"""stackctl's performance figures, measured in one run against the local emulator.

Prints, for the stackctl binary given:
  1. `up` and `down` of N resources (security groups, secrets, IAM roles) at two sizes, and the
     ratio of the large to the small (linear is the size ratio, quadratic its square);
  2. the AWS calls and rounds of calls one after another that `plan` needs to refresh the large
     stack, and the same for each seed stack, with every request taking --latency seconds;
  3. `up` of each seed stack against its critical path, with every create and delete taking 5 s
     and with the per-kind durations AWS publishes (scaled);
  4. stackctl's peak memory (max RSS) in the large `up`;
then one summary line. Figures, not pass/fail: compare them across builds.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "emulator" / "server.py"
SEEDS = ["stacks/web.yaml", "stacks/elasticache-rds.yaml", "stacks/memorydb.yaml"]
# The kinds whose create is waited for: a MemoryDB user is active at once (as in AWS; the profile's
# figure for users applies to their modifications), the others have no status to wait on.
WAITED_KINDS = ["ec2-instance", "rds-instance", "elasticache-cluster", "elasticache-replication-group",
                "memorydb-cluster", "memorydb-acl"]


class Emulator:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", "0", "--exit-with-stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # A file, not a pipe: nobody reads it while the benchmark runs, and a full pipe would
            # stall the emulator. Shown if the emulator does not start.
            stderr=(errors := tempfile.TemporaryFile()),
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        self.endpoint = self.proc.stdout.readline().decode().strip()
        if not self.endpoint.startswith("http"):
            self.proc.wait()
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip()
            raise SystemExit(f"the emulator did not start (env {env}):\n{said}")
        self.errors = errors

    def get(self, path: str) -> object:
        import urllib.request

        with urllib.request.urlopen(self.endpoint + path) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        import urllib.request

        request = urllib.request.Request(self.endpoint + "/_stackctl/requests/reset", method="POST", data=b"")
        urllib.request.urlopen(request).read()

    def requests(self) -> list[dict]:
        """The AWS requests received since the last reset; stackctl's check that an explicit endpoint
        answers (`HEAD /`, which names no AWS action) is left out, as `stackctl -v` leaves it out."""
        log = self.get("/_stackctl/requests")
        return [r for r in log if r.get("action")]  # type: ignore[union-attr]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.errors.close()


class Runner:
    def __init__(self, binary: Path, emulator: Emulator, workdir: Path) -> None:
        self.binary = binary
        self.emulator = emulator
        self.workdir = workdir

    def run(self, *args: str) -> tuple[float, int]:
        """Runs stackctl; returns (seconds, peak RSS in KiB). Fails loudly on a non-zero exit other
        than plan's 2 (changes)."""
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.emulator.endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
        }
        # stderr goes to a file: a pipe nobody reads while the run goes on would fill and stall it.
        with tempfile.TemporaryFile() as log:
            started = time.monotonic()
            proc = subprocess.Popen(
                [str(self.binary), *args], cwd=self.workdir, env=env, stdout=subprocess.DEVNULL, stderr=log
            )
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.monotonic() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            log.seek(0)
            stderr = log.read().decode(errors="replace")
        code = proc.returncode
        if code not in (0, 2):
            raise SystemExit(f"stackctl {' '.join(args)} exited {code}:\n{stderr[-3000:]}")
        return elapsed, usage.ru_maxrss


def generated_stack(name: str, size: int) -> str:
    """`size` resources: a third each security groups, generated secrets and IAM roles."""
    lines = [f"stack: {name}", "region: us-east-1", "tags: { bench: stackctl }", "resources:",
             "  vpc: { type: vpc, name: demo-vpc }"]
    for n in range(size):
        match n % 3:
            case 0:
                lines += [f"  sg{n}:", "    type: security-group", "    vpc: ${vpc.id}",
                          f"    ingress: [ {{ port: {1024 + n}, from: 10.0.0.0/8 }} ]"]
            case 1:
                lines += [f"  secret{n}:", "    type: secret", "    generate: { length: 24 }",
                          "    recovery_window_days: 0"]
            case 2:
                lines += [f"  role{n}:", "    type: iam-role", "    assumed_by: ec2.amazonaws.com",
                          "    managed_policies: [AmazonSSMManagedInstanceCore]",
                          "    inline_policies:", "      read:",
                          "        - { actions: [\"s3:GetObject\"], resources: [\"arn:aws:s3:::bench-bucket/*\"] }"]
    return "\n".join(lines) + "\n"


def rounds(requests: list[dict]) -> int:
    """The longest chain of requests each started after the one before had finished: how many
    round trips one after another the command waited for."""
    spans = sorted((r["started"], r["finished"] or r["started"]) for r in requests if r["service"])
    longest: list[int] = []
    for i, (start, _) in enumerate(spans):
        before = [longest[j] for j in range(i) if spans[j][1] <= start]
        longest.append(1 + max(before, default=0))
    return max(longest, default=0)


def graph_of(runner: Runner, stack: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    out = subprocess.run([str(runner.binary), "graph", "-f", stack], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    kinds = dict(re.findall(r'^\s*"([^"]+)" \[label="[^"]*\\n\(([^)]+)\)"\]', out, re.M))
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', out, re.M)
    return kinds, edges


def critical_path(kinds: dict[str, str], edges: list[tuple[str, str]], seconds: dict[str, float]) -> float:
    before: dict[str, list[str]] = {name: [] for name in kinds}
    for first, then in edges:
        before.setdefault(then, []).append(first)
    done: dict[str, float] = {}

    def finish(name: str) -> float:
        if name not in done:
            done[name] = seconds.get(kinds.get(name, ""), 0.0) + max(
                (finish(b) for b in before.get(name, [])), default=0.0)
        return done[name]

    return max((finish(n) for n in kinds), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary", type=Path)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--create-seconds", type=float, default=5.0)
    parser.add_argument("--profile-scale", type=float, default=1 / 60)
    parser.add_argument("--seeds", default=",".join(SEEDS))
    args = parser.parse_args()
    for name, value, positive in (("--create-seconds", args.create_seconds, True),
                                  ("--profile-scale", args.profile_scale, True),
                                  ("--latency", args.latency, False)):
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            parser.error(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value}")
    if not 0 < args.small < args.large:
        parser.error(f"--small and --large must be sizes with 0 < small < large, got {args.small} and {args.large}")
    binary = args.binary.resolve()
    seeds = [s for s in args.seeds.split(",") if s]
    summary: dict[str, str] = {}

    print(f"== up and down of {args.small} and {args.large} resources (security groups, secrets, IAM roles)")
    work = Path(tempfile.mkdtemp(prefix="stackctl-bench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    times: dict[int, tuple[float, float, int]] = {}
    refresh: tuple[int, int, float] | None = None
    for size in (args.small, args.large):
        emulator = Emulator()
        try:
            (work / f"n{size}.yaml").write_text(generated_stack(f"bench-{size}", size))
            runner = Runner(binary, emulator, work)
            stack = ["-f", f"n{size}.yaml", "--parallelism", "20"]
            up, peak = runner.run("up", *stack, "--yes")
            if size == args.large:
                emulator.reset()
                plan, _ = runner.run("plan", *stack)
                log = emulator.requests()
                refresh = (len(log), rounds(log), plan)
            down, _ = runner.run("down", *stack, "--yes")
            times[size] = (up, down, peak)
            print(f"  {size:>5} resources: up {up:6.2f} s, down {down:6.2f} s, peak RSS {peak / 1024:.0f} MiB")
        finally:
            emulator.close()
    growth = args.large / args.small
    up_ratio = times[args.large][0] / times[args.small][0]
    down_ratio = times[args.large][1] / times[args.small][1]
    print(f"  ratio {args.large}/{args.small}: up {up_ratio:.1f}x, down {down_ratio:.1f}x "
          f"(linear is {growth:.0f}x, quadratic {growth * growth:.0f}x)")
    summary["up"] = f"{up_ratio:.1f}x"
    summary["down"] = f"{down_ratio:.1f}x"
    summary["peak"] = f"{times[args.large][2] / 1024:.0f}MiB"
    if refresh:
        calls, chain, plan = refresh
        print(f"  plan of {args.large} deployed resources: {calls} AWS calls, {chain} rounds, {plan:.2f} s")
        summary["refresh"] = f"{calls} calls/{args.large}"

    print(f"\n== plan of each seed stack, every request taking {args.latency:g} s")
    emulator = Emulator({"STACKCTL_EMULATOR_LATENCY_SECONDS": str(args.latency)})
    try:
        runner = Runner(binary, emulator, ROOT)
        worst = 0
        for stack in seeds:
            state = str(work / (Path(stack).stem + ".latency.json"))
            emulator.reset()
            plan, _ = runner.run("plan", "-f", stack, "--state", state)
            fresh = emulator.requests()
            runner.run("up", "-f", stack, "--state", state, "--yes")
            emulator.reset()
            replan, _ = runner.run("plan", "-f", stack, "--state", state)
            deployed = emulator.requests()
            runner.run("down", "-f", stack, "--state", state, "--yes")
            worst = max(worst, rounds(fresh), rounds(deployed))
            print(f"  {stack}: before up {len(fresh)} calls in {rounds(fresh)} rounds ({plan:.2f} s); "
                  f"deployed {len(deployed)} calls in {rounds(deployed)} rounds ({replan:.2f} s)")
        summary["seed plan rounds"] = str(worst)
    finally:
        emulator.close()

    for label, env, durations in (
        (f"every create and delete taking {args.create_seconds:g} s",
         {"STACKCTL_EMULATOR_CREATE_SECONDS": str(args.create_seconds),
          "STACKCTL_EMULATOR_DELETE_SECONDS": str(args.create_seconds)}, None),
        (f"AWS's per-kind durations x {args.profile_scale:.4g}",
         {"STACKCTL_EMULATOR_PROFILE": "aws", "STACKCTL_EMULATOR_PROFILE_SCALE": str(args.profile_scale)}, "profile"),
    ):
        print(f"\n== up of each seed stack against its critical path, {label}")
        emulator = Emulator(env)
        try:
            if durations == "profile":
                profile = emulator.get("/_stackctl/profile")["create_seconds"]  # type: ignore[index]
                seconds = {kind: profile[kind] for kind in WAITED_KINDS}
            else:
                seconds = {kind: args.create_seconds for kind in WAITED_KINDS}
            runner = Runner(binary, emulator, ROOT)
            worst = 0.0
            for stack in seeds:
                state = str(work / (Path(stack).stem + f".{durations or 'flat'}.json"))
                kinds, edges = graph_of(runner, stack)
                path = critical_path(kinds, edges, seconds)
                up, _ = runner.run("up", "-f", stack, "--state", state, "--yes")
                runner.run("down", "-f", stack, "--state", state, "--yes")
                if not path:
                    raise SystemExit(f"{stack}: nothing on its critical path is waited for; no ratio to give")
                ratio = up / path
                worst = max(worst, ratio)
                print(f"  {stack}: up {up:6.2f} s, critical path {path:6.2f} s, ratio {ratio:.2f}")
            summary["up/critical path" + (" (profile)" if durations else "")] = f"{worst:.2f}"
        finally:
            emulator.close()

    print("\nsummary: " + ", ".join(f"{key} {value}" for key, value in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

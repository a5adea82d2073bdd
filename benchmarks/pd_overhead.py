"""Benchmark: nn~ in pd -batch against a plain loop calling the same method (the floor).

For a light model (a gain) and a heavy one (a stack of 1-D convolutions, several ms per buffer),
measure the CPU time per buffer of
  - the floor: build/nn_bench_floor calling the method on B-sample buffers in a loop on one thread,
  - nn~: `pd -nogui -batch -nrt` rendering noise through [nn~ model forward B],
each as (long run - short run) / (buffers difference), so start-up and loading cancel, and print the
ratio nn~ / floor. Goals: <= 2.5 for the light model, <= 1.10 for the heavy one. Also prints
the latency nn~ reports at this buffer size. Not a test: run it on a quiet machine.

Usage: python benchmarks/pd_overhead.py [--buffer 2048] [--repeat 5] [--light 2000 80000]
       [--heavy 50 600]

The floor loop runs 100x the light model's buffer counts: a gain costs about 2 us per call, and the
process start-up varies by tens of milliseconds.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test models: tests/support/plain_models.py

from nn_tilde.host import pd  # noqa: E402
from support import plain_models  # noqa: E402


def child_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def floor_cpu(model: Path, buffer: int, n: int) -> float:
    exe = REPO / "build" / "nn_bench_floor"
    p = subprocess.run(
        [str(exe), str(model), "forward", str(buffer), str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(p.stdout.split()[1])


def pd_cpu(model: Path | None, buffer: int, n: int, tmp: Path) -> tuple[float, str]:
    """CPU seconds of pd -batch rendering n buffers of noise through nn~ (model None: noise~
    alone)."""
    creation = f"{model} forward {buffer}" if model else None
    return pd.render_cpu(creation, ["noise~"], n * buffer / 44.1, tmp, [REPO / "build" / "nn~"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--buffer", type=int, default=2048)
    ap.add_argument(
        "--light",
        type=int,
        nargs=2,
        default=[2000, 80000],
        metavar=("SHORT", "LONG"),
        help="buffers in the short and long runs of the light model (default 2000 80000)",
    )
    ap.add_argument(
        "--heavy",
        type=int,
        nargs=2,
        default=[50, 600],
        metavar=("SHORT", "LONG"),
        help="buffers in the short and long runs of the heavy model (default 50 600)",
    )
    ap.add_argument(
        "--repeat", type=int, default=5, help="take the median of this many measurements"
    )
    args = ap.parse_args(argv)
    runs = {"gain": tuple(args.light), "heavy": tuple(args.heavy)}
    if any(not 0 < a < b for a, b in runs.values()) or args.buffer <= 0 or args.repeat <= 0:
        print(
            "error: need 0 < SHORT < LONG for --light and --heavy, and positive --buffer/--repeat",
            file=sys.stderr,
        )
        return 2
    if not (REPO / "build" / "nn_bench_floor").exists():
        print("error: build/nn_bench_floor is missing: run scripts/setup.sh", file=sys.stderr)
        return 1
    goals = {"gain": 2.5, "heavy": 1.10}
    print(
        f"buffer {args.buffer}, CPU time per buffer = (long run - short run) / buffers, median "
        f"of {args.repeat}"
    )
    print(f"{'model':<8} {'floor us/buf':>13} {'nn~ us/buf':>11} {'ratio':>7} {'goal':>6}  latency")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # Pd's own cost (scheduler + noise~, no nn~), for reading the light figure; not subtracted.
        short, long_ = runs["gain"]
        alone = (
            sorted(
                (
                    pd_cpu(None, args.buffer, long_, tmp)[0]
                    - pd_cpu(None, args.buffer, short, tmp)[0]
                )
                / (long_ - short)
                for _ in range(args.repeat)
            )[args.repeat // 2]
            * 1e6
        )
        for name in goals:
            path = plain_models.save(name, tmp)
            short, long_ = runs[name]
            diff = long_ - short
            floors, pds = [], []
            latency = "?"
            for _ in range(args.repeat):
                k = 100 if name == "gain" else 1
                floors.append(
                    (
                        floor_cpu(path, args.buffer, k * long_)
                        - floor_cpu(path, args.buffer, k * short)
                    )
                    / (k * diff)
                )
                long_cpu, log = pd_cpu(path, args.buffer, long_, tmp)
                short_cpu, _ = pd_cpu(path, args.buffer, short, tmp)
                pds.append((long_cpu - short_cpu) / diff)
                latency = next(
                    (ln.split()[-1] for ln in log.splitlines() if ln.startswith("bench: latency")),
                    "?",
                )
            f = sorted(floors)[len(floors) // 2] * 1e6
            p = sorted(pds)[len(pds) // 2] * 1e6
            print(f"{name:<8} {f:13.1f} {p:11.1f} {p / f:7.2f} {goals[name]:6.2f}  {latency}")
    print(f"pd alone (noise~, no nn~): {alone:.1f} us/buf, included in the nn~ column above")
    print(
        "reference nn~ (measured the same way): light 25.9, heavy 2.55, latency 6080 at buffer 2048"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

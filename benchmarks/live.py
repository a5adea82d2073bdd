"""How late Pd's DSP ticks run with busy nn~ objects, in a clock-paced Pd (`pd -nogui -nosound`,
no -batch): prints figures, it is not a timed test (tests/pd/test_live.py has the bounded checks).

    python benchmarks/live.py [--objects 8] [--load 0.1] [--seconds 5] [--runs 3]

Each object runs a busy model (tests/support/live_models.py) calibrated so that one call takes
`--load` of the buffer's duration (2048 samples) as nn~ measures it. Lateness of a tick: wall time
minus Pd's logical time, relative to the median tick (tests/support/pdlive.py). Set NN_PD_DIR to
compare builds (e.g. an older one). Also prints each thread's scheduling, mid-run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import List, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import live_models, pdlive

B = 2048
BUF_MS = 1000 * B / pdlive.SR


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=8)
    p.add_argument("--load", type=float, default=0.1, help="model time per buffer time, per object")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--policy", default="silence", choices=["wait", "silence", "hold"])
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        guess = live_models.ms_per_iter()
        probe = live_models.save_busy(tmp / "probe.ts", 0.2 * BUF_MS, guess)
        res = pdlive.run_live(tmp, [f"{probe} forward {B}"], seconds=1.5, settle=0.5)
        per_iter = res.stats[0]["model_ms_mean"] / max(1, round(0.2 * BUF_MS / guess))
        model = live_models.save_busy(tmp / "busy.ts", args.load * BUF_MS, per_iter)
        print(f"pd external: {pdlive.pdrun.external_dir()}")
        for run in range(args.runs):
            res = pdlive.run_live(
                tmp,
                [f"{model} forward {B}"] * args.objects,
                seconds=args.seconds,
                messages=[f"policy {args.policy}"],
            )
            ms = np.mean([s["model_ms_mean"] for s in res.stats]) if res.stats else float("nan")
            print(pdlive.summary(res, f"run {run + 1}") + f"; model {ms:.1f} ms per call")
            if run == 0:
                kinds = Counter(res.threads.values())
                print("  threads: " + ", ".join(f"{n} x {k}" for k, n in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

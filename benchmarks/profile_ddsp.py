"""Benchmark: where a DDSP model file spends its time per nn~ call, by operator (torch.profiler).

Calls `forward` of the file on consecutive 2048-sample buffers of a sine, batch 1 and batch 8 (one
[nn~ -v] with 8 voices), one thread, 10 calls of warm-up then 30 profiled; prints per batch the
self CPU time per call (inflated by the profiler's own cost: compare shares, not totals), the
operator calls per call, and the top operators. Prints figures; not a test.

Usage: python benchmarks/profile_ddsp.py [--model models/ddsp_violin.ts] [--buffer 2048]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "ddsp_violin.ts")
    parser.add_argument("--buffer", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=12)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = torch.jit.load(str(args.model))
    b = args.buffer
    for batch in (1, 8):
        model.reset()
        t = torch.arange(b * 40) / 44100.0
        sig = (0.3 * torch.sin(2 * torch.pi * 440 * t)).view(1, 1, -1).repeat(batch, 1, 1)
        with torch.no_grad():
            for i in range(10):
                model.forward(sig[..., i * b : (i + 1) * b])
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for i in range(10, 40):
                    model.forward(sig[..., i * b : (i + 1) * b])
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        calls = sum(e.count for e in events)
        print(
            f"{args.model.name} forward, buffer {b}, batch {batch}: {total / 30:.0f} us self CPU "
            f"per call (profiled), {calls / 30:.0f} operator calls per call"
        )
        print(events.table(sort_by="self_cpu_time_total", row_limit=args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

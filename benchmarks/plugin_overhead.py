"""Benchmark: the nn~ VST3 in the JUCE test host against a plain loop calling the same method (the
floor), as benchmarks/pd_overhead.py does for Pd.

For a light model (a gain) and a heavy one (1-D convolutions), measure the CPU time per buffer of
  - the floor: build/nn_bench_floor calling the method on B-sample buffers in a loop on one thread,
  - the plugin: build/.../nn_plugin_host rendering noise offline through the built VST3 playing the
    model (NN_PLUGIN_MODEL), host blocks of B samples,
each as (long run - short run) / (buffers difference), so start-up, plugin scanning and loading
cancel, and print the ratio plugin / floor with the latency the plugin reports. B is the engine's
buffer size (latency / 2: no headroom, blocks <= B). Not a test: run it on a quiet machine.

Usage: python benchmarks/plugin_overhead.py [--repeat 3] [--light 200 4000] [--heavy 20 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test models and the plugin runner

from plugin.plugin_run import host_binary, vst3_bundle  # noqa: E402

from support import plain_models  # noqa: E402

BLOCK = 2048


def child_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def floor_cpu(model: Path, buffer: int, n: int) -> float:
    p = subprocess.run(
        [str(REPO / "build" / "nn_bench_floor"), str(model), "forward", str(buffer), str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(p.stdout.split()[1])


def plugin_cpu(model: Path, n: int, tmp: Path) -> tuple[float, int]:
    """CPU seconds of the test host rendering n blocks of noise through the VST3; its latency."""
    src, dst = tmp / "in.f32", tmp / "out.f32"
    np.random.default_rng(0).uniform(-0.5, 0.5, n * BLOCK).astype(np.float32).tofile(src)
    env = dict(os.environ, NN_PLUGIN_MODEL=str(model))
    before = child_cpu()
    p = subprocess.run(
        [
            str(host_binary()),
            "--vst3",
            str(vst3_bundle()),
            "--in",
            str(src),
            "--out",
            str(dst),
            "--channels",
            "1",
            "--block",
            str(BLOCK),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    latency = int(next(ln.split()[1] for ln in p.stdout.splitlines() if ln.startswith("latency ")))
    return child_cpu() - before, latency


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--light", type=int, nargs=2, default=[200, 4000], metavar=("SHORT", "LONG"))
    ap.add_argument("--heavy", type=int, nargs=2, default=[20, 200], metavar=("SHORT", "LONG"))
    ap.add_argument("--repeat", type=int, default=3, help="median of this many measurements")
    args = ap.parse_args(argv)
    runs = {"gain": tuple(args.light), "heavy": tuple(args.heavy)}
    if any(not 0 < a < b for a, b in runs.values()) or args.repeat <= 0:
        print("error: need 0 < SHORT < LONG and a positive --repeat", file=sys.stderr)
        return 2
    if host_binary() is None or vst3_bundle() is None:
        print("error: build the plugin and its test host (docs/PLUGIN.md)", file=sys.stderr)
        return 1
    if not (REPO / "build" / "nn_bench_floor").exists():
        print("error: build/nn_bench_floor is missing: run scripts/setup.sh", file=sys.stderr)
        return 1
    print(f"host block {BLOCK}, CPU per buffer = (long - short) / buffers, median of {args.repeat}")
    print(f"{'model':<8} {'floor us/buf':>13} {'plugin us/buf':>14} {'ratio':>7}  latency  B")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, (short, long_) in runs.items():
            path = plain_models.save(name, tmp)
            _, latency = plugin_cpu(path, short, tmp)
            b = latency // 2
            k = 100 if name == "gain" else 1
            floors, plugs = [], []
            for _ in range(args.repeat):
                floors.append(
                    (floor_cpu(path, b, k * long_) - floor_cpu(path, b, k * short))
                    / (k * (long_ - short))
                )
                # the plugin's buffers are B samples; the host renders BLOCK samples per block
                long_cpu, _ = plugin_cpu(path, long_, tmp)
                short_cpu, _ = plugin_cpu(path, short, tmp)
                plugs.append((long_cpu - short_cpu) / ((long_ - short) * BLOCK / b))
            f = sorted(floors)[len(floors) // 2] * 1e6
            p = sorted(plugs)[len(plugs) // 2] * 1e6
            print(f"{name:<8} {f:13.1f} {p:14.1f} {p / f:7.2f}  {latency:7d}  {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

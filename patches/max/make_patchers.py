"""Writes the Max help patchers (nn~.maxhelp, mc.nn~.maxhelp, nn.info.maxhelp) and the overview
patcher ("nn~ overview.maxpat") of the nn~ Max package as Max's JSON patcher format.

Generated rather than saved from Max because Max does not run where they were made (see README
"Max/MSP"): every box states its inlet/outlet counts for models/demo.ts, and
tests/max/check_patchers.py checks them (JSON, ids, patch cords, messages the externals accept).

Reproduce:  python3 patches/max/make_patchers.py   (rewrites the files next to this script)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent


class Patcher:
    """A Max patcher: boxes with explicit inlet/outlet counts and the cords between them."""

    def __init__(self, width: float = 820.0, height: float = 640.0) -> None:
        self.boxes: List[Dict] = []
        self.lines: List[Dict] = []
        self.rect = [80.0, 80.0, width, height]

    def _add(self, box: Dict) -> str:
        box["id"] = f"obj-{len(self.boxes) + 1}"
        self.boxes.append({"box": box})
        return box["id"]

    def comment(
        self, x: float, y: float, text: str, w: float = 360.0, size: Optional[float] = None
    ) -> str:
        lines = max(1, text.count("\n") + 1 + len(text) // max(1, int(w / 6.5)))
        box = {
            "maxclass": "comment",
            "text": text,
            "numinlets": 1,
            "numoutlets": 0,
            "patching_rect": [x, y, w, 14.0 * lines + 6.0],
        }
        if size:
            box["fontsize"] = size
            box["patching_rect"][3] = size * 1.6 * lines
        return self._add(box)

    def obj(
        self,
        x: float,
        y: float,
        text: str,
        inlets: int,
        outlets: List[str],
        w: Optional[float] = None,
    ) -> str:
        return self._add(
            {
                "maxclass": "newobj",
                "text": text,
                "numinlets": inlets,
                "numoutlets": len(outlets),
                "outlettype": outlets,
                "patching_rect": [x, y, w or 8.0 * len(text) + 24.0, 22.0],
            }
        )

    def msg(self, x: float, y: float, text: str) -> str:
        return self._add(
            {
                "maxclass": "message",
                "text": text,
                "numinlets": 2,
                "numoutlets": 1,
                "outlettype": [""],
                "patching_rect": [x, y, 7.0 * len(text) + 20.0, 22.0],
            }
        )

    def ui(
        self,
        x: float,
        y: float,
        maxclass: str,
        inlets: int,
        outlets: List[str],
        w: float,
        h: float,
        **extra,
    ) -> str:
        box = {
            "maxclass": maxclass,
            "numinlets": inlets,
            "numoutlets": len(outlets),
            "outlettype": outlets,
            "patching_rect": [x, y, w, h],
        }
        box.update(extra)
        return self._add(box)

    def attrui(self, x: float, y: float, attr: str, w: float = 160.0) -> str:
        return self.ui(x, y, "attrui", 1, [""], w, 22.0, attr=attr, parameter_enable=0)

    def connect(self, src: str, outlet: int, dst: str, inlet: int) -> None:
        self.lines.append({"patchline": {"source": [src, outlet], "destination": [dst, inlet]}})

    def to_json(self) -> Dict:
        return {
            "patcher": {
                "fileversion": 1,
                "appversion": {
                    "major": 8,
                    "minor": 6,
                    "revision": 0,
                    "architecture": "x64",
                    "modernui": 1,
                },
                "classnamespace": "box",
                "rect": self.rect,
                "default_fontsize": 12.0,
                "gridsize": [15.0, 15.0],
                "boxes": self.boxes,
                "lines": self.lines,
            }
        }


def bottom(p: Patcher, box_id: str) -> float:
    """The lower edge of a box, to place the next row under it."""
    box = next(b["box"] for b in p.boxes if b["box"]["id"] == box_id)
    return box["patching_rect"][1] + box["patching_rect"][3]


def messages_column(
    p: Patcher, x: float, y: float, target: str, items: List[Tuple[str, str]]
) -> float:
    """One message box per row, each cabled to `target`'s left inlet, with a comment beside it; a
    row is as tall as its comment, so no comment lies over the next one. Returns the y under the
    column."""
    for text, note in items:
        m = p.msg(x, y, text)
        c = p.comment(x + 170.0, y, note, w=300.0) if note else m
        p.connect(m, 0, target, 0)
        y = max(y + 28.0, bottom(p, c) + 6.0)
    return y


def nn_tilde_help() -> Patcher:
    p = Patcher(900.0, 840.0)
    p.comment(15, 10, "nn~", size=24.0, w=200.0)
    p.comment(
        15,
        50,
        "Run a TorchScript neural audio model live: one worker thread per object, the audio thread "
        "never waits under the live policies. Same engine as the Pd external.",
        w=560.0,
    )
    p.comment(
        15,
        85,
        "nn~ <model> [<method>] [<buffer size>] @enable 0|1 @policy wait|silence|hold",
        w=560.0,
    )

    osc = p.obj(15, 130, "cycle~ 220", 2, ["signal"])
    amp = p.obj(15, 165, "*~ 0.8", 2, ["signal"])
    p.connect(osc, 0, amp, 0)
    nn = p.obj(15, 0, "nn~ demo forward", 1, ["signal", ""], w=140.0)  # y set below
    p.connect(amp, 0, nn, 0)

    y = messages_column(
        p,
        260,
        130,
        nn,
        [
            ("load demo encode", "load a model / method off the audio thread"),
            ("reload", "read the same file again"),
            ("method forward", "switch method (inlets are fixed at creation)"),
            ("set drive 8", "set a model attribute (a buffer~ name for buffers)"),
            ("get drive", "the value comes out of the right outlet"),
            ("bufsize 4096", "samples per model call (a multiple of its ratios)"),
            ("headroom 1", "1 more buffer of latency for a model slower than real time"),
            ("info", "state, model, method, labels, latency... (also bang)"),
            ("stats", "blocks, late blocks, drops, model time"),
            ("resetstats", "zero the counters"),
            ("enable 0", "output silence, the worker idles"),
            ("enable 1", "call the model again"),
        ],
    )
    pol = p.attrui(260, y, "policy")
    p.connect(pol, 0, nn, 0)
    note = p.comment(
        430,
        y,
        "When the model is late: wait (default, complete renders), silence or hold (never wait; "
        "late blocks are counted in stats).",
        w=400.0,
    )
    y = bottom(p, note) + 20.0
    next(b["box"] for b in p.boxes if b["box"]["id"] == nn)["patching_rect"][1] = y
    gain = p.obj(15, y + 70, "*~ 0.2", 2, ["signal"])
    p.connect(nn, 0, gain, 0)
    dac = p.ui(15, y + 110, "ezdac~", 2, [], 45.0, 45.0)
    p.connect(gain, 0, dac, 0)
    p.connect(gain, 0, dac, 1)
    prt = p.obj(160, y + 70, "print nn~", 1, [])
    p.connect(nn, 1, prt, 0)
    latency = p.comment(
        80,
        y + 120,
        "Turn audio on: a sine through the demo model's soft saturator (forward, 1 -> 1). "
        "Latency: 2 x buffer size for Max's usual vector sizes; `info` reports it exactly.",
        w=400.0,
    )
    p.comment(
        15,
        bottom(p, latency) + 20.0,
        "Errors (missing file, a model that throws, NaN output) are printed in the Max console "
        "from "
        "the main thread; a failing model outputs silence until reload. Inlet/outlet assistance "
        "shows "
        "the method's labels. Not yet run inside Max: see the package README.",
        w=600.0,
    )
    return p


def mc_help() -> Patcher:
    p = Patcher(860.0, 620.0)
    p.comment(15, 10, "mc.nn~", size=24.0, w=200.0)
    p.comment(
        15,
        50,
        "Several voices through one model in one forward call: the voices of a multichannel "
        "cable are "
        "the batch items of the model.",
        w=600.0,
    )
    p.comment(
        15,
        85,
        "mc.nn~ <model> [<method>] [<buffer size>] @chans <voices> (fixed at creation)",
        w=600.0,
    )
    osc = p.obj(
        15, 130, "mc.cycle~ @chans 4 @values 110 165 220 330", 2, ["multichannelsignal"], w=300.0
    )
    amp = p.obj(15, 170, "mc.*~ 0.8", 2, ["multichannelsignal"])
    p.connect(osc, 0, amp, 0)
    nn = p.obj(15, 260, "mc.nn~ demo forward @chans 4", 1, ["multichannelsignal", ""], w=220.0)
    p.connect(amp, 0, nn, 0)
    mix = p.obj(15, 320, "mc.stereo~", 1, ["signal", "signal"])
    p.connect(nn, 0, mix, 0)
    gain_l = p.obj(15, 360, "*~ 0.1", 2, ["signal"])
    gain_r = p.obj(90, 360, "*~ 0.1", 2, ["signal"])
    p.connect(mix, 0, gain_l, 0)
    p.connect(mix, 1, gain_r, 0)
    dac = p.ui(15, 400, "ezdac~", 2, [], 45.0, 45.0)
    p.connect(gain_l, 0, dac, 0)
    p.connect(gain_r, 0, dac, 1)
    prt = p.obj(260, 320, "print mc.nn~", 1, [])
    p.connect(nn, 1, prt, 0)
    messages_column(
        p,
        340,
        130,
        nn,
        [
            ("info", "channels, buffer, latency... per object"),
            ("stats", "one worker runs all voices"),
        ],
    )
    p.comment(
        340,
        200,
        "Each signal inlet carries one model input channel for every voice; each outlet one output "
        "channel for every voice. A cable with fewer channels than voices wraps (voice v reads "
        "channel "
        "v mod n), so a mono cable feeds every voice; extra channels are ignored.",
        w=460.0,
    )
    p.comment(
        15,
        470,
        "All nn~ messages and attributes work here too (load, method, set, get, bufsize, headroom, "
        "@policy...). "
        "Not yet run inside Max: see the package README.",
        w=600.0,
    )
    return p


def info_help() -> Patcher:
    p = Patcher(860.0, 560.0)
    p.comment(15, 10, "nn.info", size=24.0, w=200.0)
    p.comment(
        15,
        50,
        "Inspect a model file: methods with their params and labels, attributes with their types, "
        "sample rate, declared latency, metadata, warnings.",
        w=600.0,
    )
    rd = p.msg(15, 100, "read demo")
    bang = p.ui(120, 100, "button", 1, ["bang"], 24.0, 24.0, parameter_enable=0)
    info = p.obj(15, 150, "nn.info", 1, ["dictionary", ""], w=80.0)
    p.connect(rd, 0, info, 0)
    p.connect(bang, 0, info, 0)
    p.comment(160, 100, "read loads the file on a helper thread; bang reports it again", w=400.0)
    view = p.ui(15, 200, "dict.view", 1, [""], 380.0, 300.0)
    p.connect(info, 0, view, 0)
    route = p.obj(
        420, 200, "route method attribute latency samplerate", 2, ["", "", "", "", ""], w=300.0
    )
    p.connect(info, 1, route, 0)
    for i, name in enumerate(["method", "attribute", "latency", "samplerate"]):
        pr = p.obj(420 + 0.0, 250 + 35.0 * i, f"print {name}", 1, [])
        p.connect(route, i, pr, 0)
    p.comment(
        420,
        400,
        "Right outlet, one message per fact: path, samplerate, methods, method <name> <in "
        "channels> "
        "<in ratio> <out channels> <out ratio>, inputs/outputs <method> <labels>, latency <method> "
        "<samples>, attribute <name> <types>, buffers, metadata <key> <value>, verified, warning.",
        w=400.0,
    )
    return p


def overview() -> Patcher:
    p = Patcher(900.0, 620.0)
    p.comment(15, 10, "nn~ for Max", size=24.0, w=300.0)
    p.comment(
        15,
        50,
        "Neural audio models (TorchScript files following the nn~ convention) in Max. Three "
        "objects:",
        w=600.0,
    )
    p.comment(
        15,
        75,
        "nn~: one model method on signals. mc.nn~: several voices as batch items of one forward "
        "call. nn.info: what a model file contains.",
        w=600.0,
    )
    p.comment(
        15,
        120,
        "Encode to features, then decode back (demo model: loudness and brightness at 1/512 rate):",
        w=600.0,
    )
    osc = p.obj(15, 150, "noise~", 1, ["signal"])
    flt = p.obj(15, 185, "lores~ 800 0.5", 3, ["signal"])
    p.connect(osc, 0, flt, 0)
    enc = p.obj(15, 225, "nn~ demo encode", 1, ["signal", "signal", ""], w=140.0)
    p.connect(flt, 0, enc, 0)
    dec = p.obj(15, 275, "nn~ demo decode", 2, ["signal", ""], w=140.0)
    p.connect(enc, 0, dec, 0)
    p.connect(enc, 1, dec, 1)
    gain = p.obj(15, 320, "*~ 0.2", 2, ["signal"])
    p.connect(dec, 0, gain, 0)
    dac = p.ui(15, 360, "ezdac~", 2, [], 45.0, 45.0)
    p.connect(gain, 0, dac, 0)
    p.connect(gain, 0, dac, 1)
    p.comment(
        200,
        225,
        "encode: 1 input, 2 outputs (one outlet per model channel, plus messages on the right)",
        w=420.0,
    )
    p.comment(200, 275, "decode: 2 inputs, 1 output", w=420.0)
    info = p.obj(420, 330, "nn.info demo", 1, ["dictionary", ""], w=100.0)
    bang = p.ui(420, 300, "button", 1, ["bang"], 24.0, 24.0, parameter_enable=0)
    p.connect(bang, 0, info, 0)
    prt = p.obj(520, 370, "print nn.info", 1, [])
    p.connect(info, 1, prt, 0)
    p.comment(
        15,
        430,
        "Open the help of each object for every message and attribute. Models: put .ts files in "
        "this "
        "package's models/ folder or anywhere in Max's search path.",
        w=600.0,
    )
    return p


def write(path: Path, patcher: Patcher) -> None:
    path.write_text(json.dumps(patcher.to_json(), indent=1) + "\n", encoding="utf-8")


def main(argv: List[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else HERE
    write(out / "nn~.maxhelp", nn_tilde_help())
    write(out / "mc.nn~.maxhelp", mc_help())
    write(out / "nn.info.maxhelp", info_help())
    write(out / "nn~ overview.maxpat", overview())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

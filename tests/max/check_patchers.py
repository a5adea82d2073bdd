"""Checks the Max help and overview patchers (patches/max/) without Max: valid JSON patchers, unique
box ids, patch cords between existing boxes and existing inlets/outlets, nn~/mc.nn~/nn.info boxes
with the inlet and outlet counts the externals create for models/demo.ts, and every message box or
attrui wired to them naming a message or attribute the externals register (read from their
sources), and no box or comment lying over another (patching_rect). Exit code 0 when everything
holds; prints one line per problem otherwise.

Run:  python3 tests/max/check_patchers.py   (ctest runs it as max_patchers)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
PATCHES = ROOT / "patches" / "max"
FILES = ["nn~.maxhelp", "mc.nn~.maxhelp", "nn.info.maxhelp", "nn~ overview.maxpat"]

# models/demo.ts (models/make_demo.py): method -> (input channels, output channels)
DEMO = {"forward": (1, 1), "encode": (1, 2), "decode": (2, 1)}


def registered(source: Path) -> Set[str]:
    """Messages (class_addmethod) and attributes (CLASS_ATTR_*) an external registers."""
    text = source.read_text(encoding="utf-8")
    names = set(re.findall(r'class_addmethod\(c, \(method\)\w+, "(\w+)"', text))
    names |= set(re.findall(r'CLASS_ATTR_(?:LONG|SYM|CHAR|FLOAT|ATOM)\(c, "(\w+)"', text))
    return names - {"dsp64", "assist", "multichanneloutputs"}


def expected_io(text: str) -> Tuple[str, int, List[str]]:
    """(class, inlets, outlet types) of an nn~, mc.nn~ or nn.info box for models/demo.ts."""
    words = text.split()
    cls = words[0]
    if cls == "nn.info":
        return cls, 1, ["dictionary", ""]
    positional = []
    for w in words[1:]:
        if w.startswith("@"):
            break
        positional.append(w)
    method = next((w for w in positional[1:] if not w.replace(".", "").isdigit()), "forward")
    ins, outs = DEMO[method]
    sig = "multichannelsignal" if cls == "mc.nn~" else "signal"
    return cls, ins, [sig] * outs + [""]


def check(path: Path, accepted: Dict[str, Set[str]]) -> List[str]:
    problems: List[str] = []
    name = path.name
    try:
        patcher = json.loads(path.read_text(encoding="utf-8"))["patcher"]
    except (OSError, ValueError, KeyError) as e:
        return [f"{name}: not a Max JSON patcher ({e})"]
    boxes: Dict[str, dict] = {}
    for entry in patcher.get("boxes", []):
        box = entry["box"]
        if box["id"] in boxes:
            problems.append(f"{name}: duplicate box id {box['id']}")
        boxes[box["id"]] = box
        if len(box.get("outlettype", [])) != box.get("numoutlets", 0):
            problems.append(f"{name}: {box['id']} outlettype does not match numoutlets")
        text = box.get("text", "")
        if box.get("maxclass") == "newobj" and text.split()[0] in accepted:
            cls, ins, outs = expected_io(text)
            if box["numinlets"] != ins or box["outlettype"] != outs:
                problems.append(
                    f"{name}: [{text}] declares {box['numinlets']} inlets / {box['outlettype']}, "
                    f"the external creates {ins} / {outs} for models/demo.ts"
                )
    targets: Set[str] = set()
    for entry in patcher.get("lines", []):
        line = entry["patchline"]
        (src, outlet), (dst, inlet) = line["source"], line["destination"]
        if src not in boxes or dst not in boxes:
            problems.append(f"{name}: patch cord {src} -> {dst} between missing boxes")
            continue
        if outlet >= boxes[src]["numoutlets"]:
            problems.append(f"{name}: {src} has no outlet {outlet}")
        if inlet >= boxes[dst]["numinlets"]:
            problems.append(f"{name}: {dst} has no inlet {inlet}")
        dtext = boxes[dst].get("text", "")
        cls = dtext.split()[0] if boxes[dst].get("maxclass") == "newobj" and dtext else ""
        if cls in accepted:
            targets.add(dst)
            sbox = boxes[src]
            if sbox["maxclass"] == "message":
                selector = sbox["text"].split()[0]
                if selector not in accepted[cls]:
                    problems.append(
                        f"{name}: message '{sbox['text']}' sent to [{dtext}], which has no "
                        f"'{selector}'"
                    )
            elif sbox["maxclass"] == "attrui" and sbox.get("attr") not in accepted[cls]:
                problems.append(
                    f"{name}: attrui '{sbox.get('attr')}' wired to [{dtext}], which has no such "
                    "attribute"
                )
    for bid, box in boxes.items():
        if (
            box.get("maxclass") == "newobj"
            and box.get("text", "").split()[0] in accepted
            and bid not in targets
            and not box["text"].startswith("nn.info")
            and box["numinlets"] > 0
        ):
            problems.append(f"{name}: [{box['text']}] receives nothing")
    return problems + overlaps(name, patcher)


def overlaps(name: str, patcher: Dict) -> List[str]:
    """The layout rules tests/gui applies to the Pd patches, on each box's patching_rect: no box
    over another box, no comment over a box or another comment (touching edges are fine), and
    everything inside the window as it opens (the patcher's rect: x, y, width, height)."""
    boxes = [b["box"] for b in patcher.get("boxes", [])]
    found = []
    width, height = patcher["rect"][2], patcher["rect"][3]
    for a in boxes:
        x, y, w, h = a["patching_rect"]
        if x + w > width or y + h > height:
            found.append(
                f"{name}: {a['maxclass']} [{a.get('text', '')[:30]}] at {a['patching_rect']} lies "
                f"outside the window ({width:g}x{height:g})"
            )
    for i, a in enumerate(boxes):
        ax, ay, aw, ah = a["patching_rect"]
        for b in boxes[i + 1 :]:
            bx, by, bw, bh = b["patching_rect"]
            if min(ax + aw, bx + bw) > max(ax, bx) and min(ay + ah, by + bh) > max(ay, by):
                found.append(
                    f"{name}: {a['maxclass']} [{a.get('text', '')[:30]}] at {a['patching_rect']} "
                    f"overlaps {b['maxclass']} [{b.get('text', '')[:30]}] at {b['patching_rect']}"
                )
    return found


def main() -> int:
    tilde = registered(ROOT / "nn_tilde" / "max" / "nn_tilde_max.cpp")
    accepted = {
        "nn~": tilde - {"chans"},
        "mc.nn~": tilde,
        "nn.info": registered(ROOT / "nn_tilde" / "max" / "nn_info_max.cpp"),
    }
    for must in ("load", "reload", "method", "set", "get", "info", "enable", "policy"):
        if must not in tilde:
            print(f"nn~ does not register '{must}' (the Max help patchers need it)")
            return 1
    problems: List[str] = []
    for f in FILES:
        problems += check(PATCHES / f, accepted)
    for p in problems:
        print(p)
    print(
        f"{len(FILES) - len({p.split(':')[0] for p in problems})} passed, "
        f"{len({p.split(':')[0] for p in problems})} failed"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

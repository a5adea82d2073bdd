"""Opens a Pd patch in the real Pd GUI (Tk) under Xvfb and judges what was drawn.

The GUI plugin plugin/nn-layout-plugin.tcl does the opening, waits until Pd has drawn every window,
writes each canvas item (type, tags, coordinates, bounding box, shown text) as JSON lines, saves a
screenshot of each window and quits Pd. problems() reads those items back as boxes, comments and
cords, and names everything a reader would stumble on:
  - a box (object, message, atom) over another box
  - a comment over a box or over another comment
  - a cord across a comment, or through a box it does not connect
  - a backslash on screen (an escape glued to a word: Pd saves a comma in a comment as " \\, ")
  - something outside the part of the canvas the window shows when the patch opens
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"
Rect = Tuple[float, float, float, float]
TIMEOUT = 120  # seconds for one patch; Pd under Xvfb opens one in well under a second


@dataclass
class Box:
    tag: str
    kind: str  # obj, msg, atom (boxes) or comment
    rect: Rect
    text: str = ""


@dataclass
class Window:
    name: str
    title: str
    view: Rect
    screenshot: str
    pd: str  # the version of the Pd core
    guidir: str  # the folder of the GUI's Tcl files
    boxes: List[Box] = field(default_factory=list)
    cords: List[List[float]] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)  # every text Tk shows, boxes and comments


class Xvfb:
    """An X server of its own for the test session. -displayfd makes Xvfb write the display
    number once it accepts connections, so nothing waits on a timer."""

    def __init__(self) -> None:
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "2200x1600x24", "-nolisten", "tcp"],
            pass_fds=(w,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            raise RuntimeError(f"Xvfb did not start (install it: apt-get install xvfb): {err}")
        self.display = f":{number}"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def subpatch_names(patch: Path) -> List[str]:
    """Names of the [pd NAME] subpatches, which the plugin opens too."""
    return re.findall(r"^#X restore -?\d+ -?\d+ pd (\S+?);", patch.read_text(), re.M)


def draw(pd_bin: str, patch: Path, display: str, shots: Path, paths: List[Path]) -> List[Window]:
    """Opens `patch` in the GUI of `pd_bin` on `display` and returns its drawn windows."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "items.jsonl"
        env = dict(os.environ)
        env.update(
            DISPLAY=display,
            NN_LAYOUT_PATCH=str(patch),
            NN_LAYOUT_SUBPATCHES=" ".join(subpatch_names(patch)),
            NN_LAYOUT_OUT=str(out),
            NN_LAYOUT_SHOTS=str(shots),
        )
        cmd = [pd_bin, "-nosound", "-nomidi", "-noprefs", "-path", str(PLUGIN_DIR)]
        for p in paths:
            cmd += ["-path", str(p)]
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(
                f"{pd_bin} did not draw {patch.name} within {TIMEOUT} s (is its GUI installed? "
                f"bash scripts/setup.sh installs it); Pd said: {e.stderr!r}"
            ) from None
        if not out.exists():
            raise AssertionError(
                f"{pd_bin} quit (exit {p.returncode}) without the plugin's report on "
                f"{patch.name}; Pd said:\n{p.stdout}{p.stderr}"
            )
        windows = parse(out.read_text(encoding="utf-8").splitlines())
    for (
        w
    ) in windows:  # name each screenshot after its window: <prefix>-nn~-help.png, -reference.png
        shot = Path(w.screenshot)
        if shot.is_file():
            named = shot.with_name(
                f"{shots.name}-{w.title.split()[0]}.png".replace(".pd.png", ".png")
            )
            shot.replace(named)
            w.screenshot = str(named)
    return windows


def parse(lines: List[str]) -> List[Window]:
    windows: Dict[str, Window] = {}
    parts: Dict[Tuple[str, str], Dict] = {}  # (window, object tag) -> its items
    for line in lines:
        rec = json.loads(line)
        if "view" in rec:
            windows[rec["window"]] = Window(
                rec["window"],
                rec["title"],
                tuple(rec["view"]),
                rec["screenshot"],
                rec["pd"],
                rec["guidir"],
            )
            continue
        w = windows[rec["window"]]
        tags = rec["tags"]
        if "cord" in tags:
            w.cords.append(rec["coords"])
            continue
        m = re.match(r"(\.x[0-9a-f]+\.t[0-9a-f]+)(R|[io]\d+)?$", tags[0]) if tags else None
        if not m:
            continue
        part = parts.setdefault((w.name, m.group(1)), {"window": w})
        if m.group(2) == "R":  # the border: its coordinates are the box's rectangle
            xs, ys = rec["coords"][0::2], rec["coords"][1::2]
            part["rect"] = (min(xs), min(ys), max(xs), max(ys))
            part["kind"] = tags[1]
        elif m.group(2) is None and rec["type"] == "text":
            part["text"] = rec["text"]
            part["text_bbox"] = tuple(rec["bbox"])
            part.setdefault("kind", "comment" if tags[1] == "text" else tags[1])
            w.texts.append(rec["text"])
    for (_, tag), part in parts.items():
        if "rect" in part:
            rect, kind = part["rect"], part["kind"]
        elif "text_bbox" in part:
            rect, kind = part["text_bbox"], part["kind"]
        else:
            continue
        part["window"].boxes.append(Box(tag, kind, rect, part.get("text", "")))
    return list(windows.values())


def _overlap(a: Rect, b: Rect) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0 and min(a[3], b[3]) - max(a[1], b[1]) > 0


def _inside(pt: Tuple[float, float], r: Rect, margin: float = 3) -> bool:
    return r[0] - margin <= pt[0] <= r[2] + margin and r[1] - margin <= pt[1] <= r[3] + margin


def _segment_hits(p: Tuple[float, float], q: Tuple[float, float], r: Rect) -> bool:
    """Whether the segment p-q passes through the inside of rectangle r (Liang-Barsky clip)."""
    x0, y0, x1, y1 = r[0] + 1, r[1] + 1, r[2] - 1, r[3] - 1
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
        else:
            t = qk / pk
            if pk < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 < t1


def _name(b: Box) -> str:
    text = " ".join(b.text.split())
    return f"{b.kind} [{text[:40]}{'...' if len(text) > 40 else ''}] at {tuple(map(int, b.rect))}"


def problems(windows: List[Window]) -> List[str]:
    found: List[str] = []
    for w in windows:
        where = w.title.split()[0] if w.title else w.name
        boxes = [b for b in w.boxes if b.kind != "comment"]
        comments = [b for b in w.boxes if b.kind == "comment"]
        for i, a in enumerate(w.boxes):
            for b in w.boxes[i + 1 :]:
                if _overlap(a.rect, b.rect):
                    found.append(f"{where}: {_name(a)} overlaps {_name(b)}")
        for text in w.texts:
            if "\\" in text:
                line = next(x for x in text.splitlines() if "\\" in x)
                found.append(f"{where}: a backslash shows: {line.strip()!r}")
        for cord in w.cords:
            pts = list(zip(cord[0::2], cord[1::2], strict=False))
            what = f"{where}: a cord from {pts[0]} to {pts[-1]}"
            ends = [b for b in boxes if _inside(pts[0], b.rect) or _inside(pts[-1], b.rect)]
            for p, q in itertools.pairwise(pts):
                for c in comments:
                    if _segment_hits(p, q, c.rect):
                        found.append(f"{what} crosses {_name(c)}")
                for b in boxes:
                    if b not in ends and _segment_hits(p, q, b.rect):
                        found.append(f"{what} runs through {_name(b)}")
        v = w.view
        for b in w.boxes:
            r = b.rect
            if r[0] < v[0] or r[1] < v[1] or r[2] > v[2] or r[3] > v[3]:
                found.append(
                    f"{where}: {_name(b)} lies outside the window as it opens "
                    f"({int(v[2] - v[0])}x{int(v[3] - v[1])}): enlarge the canvas or move it"
                )
    return found


def shown_texts(windows: List[Window]) -> List[str]:
    return [t for w in windows for t in w.texts]


def find(windows: List[Window], kind: str, text: str) -> Optional[Box]:
    for w in windows:
        for b in w.boxes:
            if b.kind == kind and " ".join(b.text.split()) == text:
                return b
    return None

"""The help patch opens in pd -batch without a single error, and documents every message the
external accepts (read from the adapter's class_addmethod calls) and nothing it does not."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from nn_tilde.host import pd
from support import pdrun

pytestmark = pytest.mark.pd

ADAPTER = pdrun.REPO / "nn_tilde" / "pd" / "nn_tilde_pd.cpp"
HELP = pdrun.REPO / "patches" / "nn~-help.pd"


def accepted_selectors() -> set[str]:
    src = ADAPTER.read_text()
    sel = set(
        re.findall(r'class_addmethod\(nn_tilde_class, \(t_method\)\w+, gensym\("(\w+)"\)', src)
    )
    sel.discard("dsp")
    if "class_addbang" in src:
        sel.add("bang")
    return sel


def run_help(folder: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Opens folder/nn~-help.pd in pd -batch with only `folder` on the search path, then quits."""
    return pd.run(
        folder / "nn~-help.pd",
        [folder],
        binary=pdrun.pd_binary(),
        nrt=False,
        noaudio=False,
        nomidi=False,
        sr=None,
        send=["pd quit"],
        timeout=120,
        cwd=cwd,
    )


def test_help_patch_opens_without_errors():
    p = run_help(pdrun.external_dir())
    log = p.stdout + p.stderr
    assert p.returncode == 0, log
    assert "error" not in log.lower(), log
    assert "nn~ " in log  # the external really loaded


def test_help_patch_is_the_installed_one():
    assert (pdrun.external_dir() / "nn~-help.pd").read_text() == HELP.read_text()


def messages_wired_to_nn(text: str) -> list[str]:
    """The message boxes connected to an [nn~ ...] box of the same canvas (main or subpatch)."""
    stack: list[list[str]] = []
    wired: list[str] = []
    for line in re.split(r";\n", text):
        if line.startswith("#N canvas"):
            stack.append([])
        elif line.startswith("#X restore"):
            stack.pop()
            stack[-1].append("#X restore")
        elif line.startswith(("#X obj", "#X msg", "#X text", "#X floatatom", "#X symbolatom")):
            stack[-1].append(line)
        elif line.startswith("#X connect"):
            src, _, dst, _ = map(int, line.split()[2:6])
            boxes = stack[-1]
            if (
                boxes[src].startswith("#X msg")
                and boxes[dst].startswith("#X obj")
                and (boxes[dst].split()[4] == "nn~")
            ):
                wired.append(boxes[src].split(maxsplit=4)[4])
    return wired


def test_help_documents_every_message():
    """Every message nn~ accepts has a message box wired to an [nn~] in the help, and every
    message box wired to one names a message nn~ accepts."""
    documented = {b.split()[0] for b in messages_wired_to_nn(HELP.read_text())}
    text = HELP.read_text()
    accepted = accepted_selectors()
    assert accepted - documented - {"bang"} == set(), (
        f"undocumented messages: {accepted - documented}"
    )
    assert documented - accepted == set(), (
        f"help shows messages nn~ does not accept: {documented - accepted}"
    )
    assert "bang" in text  # bang is described in words (same as info)


def test_install_step_lays_out_a_folder_pd_can_use(tmp_path):
    build = pdrun.external_dir().parent
    p = subprocess.run(
        ["cmake", "--install", str(build), "--prefix", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    pkg = tmp_path / "nn~"
    for f in ["nn~.pd_linux", "nn~-help.pd", "README.md", "MODEL_FORMAT.md", "models/demo.ts"]:
        assert (pkg / f).is_file(), f"{f} missing from the installed folder"
    # from a neutral working directory, with only the installed folder on Pd's path
    p = run_help(pkg, cwd=tmp_path)
    log = p.stdout + p.stderr
    assert p.returncode == 0 and "error" not in log.lower(), log


def test_help_states_the_version_of_the_external():
    """The help names the version of nn~ it describes: the one the loaded external announces."""
    p = run_help(pdrun.external_dir())
    m = re.search(r"^nn~ (\d+\.\d+\.\d+\S*):", p.stdout + p.stderr, re.M)
    assert m, p.stdout + p.stderr
    assert f"#X text 20 36 nn~ {m.group(1)} - the version of nn~ this help describes" in (
        HELP.read_text()
    ), f"the help does not say it describes nn~ {m.group(1)}"


def test_see_also_opens_the_multichannel_patch(tmp_path):
    """The help's "see also" chain ([dir( -> [pdcontrol] -> [; pd open nn~-multichannel.pd $1(),
    taken from the help file and started by a loadbang in a patch beside a copy of the installed
    folder, opens nn~-multichannel.pd: a message to its canvas then finds it."""
    text = HELP.read_text()
    chain = [
        re.search(r"^#X msg \d+ \d+ dir;$", text, re.M),
        re.search(r"^#X obj \d+ \d+ pdcontrol;$", text, re.M),
        re.search(r"^#X msg \d+ \d+ \\; pd open nn~-multichannel\.pd \\\$1;$", text, re.M),
    ]
    assert all(chain), "the help's see-also chain changed: update this test"
    for f in pdrun.external_dir().iterdir():
        (tmp_path / f.name).symlink_to(f)
    wrapper = tmp_path / "see-also.pd"
    wrapper.write_text(
        "#N canvas 0 50 400 300 12;\n#X obj 10 10 loadbang;\n#X obj 10 40 t b b;\n"
        + "\n".join(m.group(0) for m in chain)
        + "\n#X msg 10 200 \\; pd-nn~-multichannel.pd nn-help-probe \\; pd quit;\n"
        "#X connect 0 0 1 0;\n#X connect 1 1 2 0;\n#X connect 2 0 3 0;\n#X connect 3 0 4 0;\n"
        "#X connect 1 0 5 0;\n"
    )
    p = pd.run(
        wrapper,
        [tmp_path],
        binary=pdrun.pd_binary(),
        nrt=False,
        noaudio=False,
        nomidi=False,
        sr=None,
        send=[],
        timeout=120,
        cwd=tmp_path,
    )
    log = p.stdout + p.stderr
    # the canvas exists (it answers, with an error, the message it has no method for)
    assert "canvas: no method for 'nn-help-probe'" in log, log


def test_every_help_message_runs_as_documented(tmp_path):
    """The help's message boxes wired to [nn~], sent in the order of the help to the help's own
    [nn~ models/demo forward 2048] (in a folder laid out like the installed one): no error, and
    those whose effect shows in the log do what their comments say: `get drive` answers the value
    `set drive 8` gave, and `info` (sent after them in the help's order) prints the buffer size,
    headroom and policy the messages before it set."""
    wired = messages_wired_to_nn(HELP.read_text())
    assert wired.index("set drive 8") < wired.index("get drive")
    for before in ["bufsize 4096", "headroom 1", "policy hold"]:
        assert wired.index(before) < wired.index("info"), f"{before} comes after info in the help"
    for f in pdrun.external_dir().iterdir():
        (tmp_path / f.name).symlink_to(f)
    sequence = " \\, ".join(wired)
    patch = tmp_path / "messages.pd"
    patch.write_text(
        "#N canvas 0 50 450 300 12;\n"
        "#X obj 10 10 nn~ models/demo forward 2048;\n"
        "#X obj 10 40 print reply;\n"
        f"#X msg 10 70 {sequence};\n"
        "#X obj 10 100 loadbang;\n"
        "#X obj 10 130 delay 60000;\n"
        "#X msg 10 160 \\; pd quit;\n"
        "#X obj 200 40 route drive;\n"
        "#X connect 0 1 1 0;\n#X connect 2 0 0 0;\n#X connect 3 0 2 0;\n#X connect 3 0 4 0;\n"
        "#X connect 4 0 5 0;\n#X connect 0 1 6 0;\n#X connect 6 0 5 0;\n"
    )
    # Pd quits on the answer to `get drive` (the last reply to wait for), or after a minute.
    # Real time (no -batch), as tests/pd/test_host_words.py: answers come from the worker.
    p = pd.run(
        patch, [tmp_path], binary=pdrun.pd_binary(), batch=False, sr=None, timeout=120, cwd=tmp_path
    )
    log = p.stdout + p.stderr
    assert p.returncode == 0, log
    assert "error" not in log.lower(), log
    assert "reply: drive 8" in log, log
    for line in ["methods forward encode decode", "buffer 4096", "headroom 1", "policy hold"]:
        assert f"[nn~] {line}\n" in log, log

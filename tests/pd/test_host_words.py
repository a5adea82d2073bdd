"""Pd says what Max says: the adapter's argument parsing, model file lookup, policy names and `info`
lines come from nn_tilde/core/host.* (tests/cpp/test_host.cpp checks the same words there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nn_tilde.host import pd
from support import pdrun

pytestmark = pytest.mark.pd

USAGE = "(usage: nn~ <model> [<method>] [<buffer size>])"


def run_messages(tmp: Path, creation: str, messages: list[str]) -> str:
    """Creates [nn~ <creation>], sends it `messages` one by one at load time; returns Pd's log."""
    patch = pd.Patch("0 50 450 300 12")
    nn = patch.obj(f"nn~ {creation}")
    boxes = [patch.msg(m) for m in messages]
    for b in boxes:
        patch.connect(b, 0, nn, 0)
    lb = patch.obj("loadbang")
    t = patch.obj("t " + " ".join(["b"] * (len(messages) + 1)))
    quit_ = patch.msg("\\; pd quit")
    patch.connect(lb, 0, t, 0)
    patch.connect(t, 0, quit_, 0)  # leftmost fires last: quit after the messages
    for i, b in enumerate(boxes):
        patch.connect(t, len(messages) - i, b, 0)
    p = pdrun.run_pd(patch.write(tmp / "words.pd"), timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout + p.stderr


def test_extra_creation_arguments_are_named_in_the_words_max_uses(tmp_path, model_dir):
    log = run_messages(tmp_path, f"{model_dir / 'identity.ts'} forward 2048 4096", [])
    assert f"[nn~] extra creation arguments ignored: 4096 {USAGE}" in log


def test_loading_a_folder_says_it_is_a_folder(tmp_path, model_dir):
    folder = tmp_path / "models.ts.d"
    folder.mkdir()
    log = run_messages(tmp_path, f"{model_dir / 'identity.ts'}", [f"load {folder}"])
    assert (
        f"[nn~] '{folder}' is a folder, not a model file: give the path of a .ts file [file.folder]"
        in log
    )
    assert "not found" not in log


def test_policy_names_and_info_lines(tmp_path, model_dir):
    log = run_messages(
        tmp_path, f"{model_dir / 'identity.ts'}", ["policy bogus", "policy hold", "info"]
    )
    assert "[nn~] unknown policy 'bogus': use wait, silence or hold" in log
    assert "[nn~] methods forward" in log
    assert "[nn~] method forward 1 1 1 1" in log


def test_attribute_values_are_converted_as_in_max(tmp_path, model_dir):
    """A number for a str attribute becomes its text, a bool takes on/off (attribute_values)."""
    lines = [
        "#N canvas 0 50 450 300 12;",
        f"#X obj 10 10 nn~ {model_dir / 'attributed.ts'};",
        "#X obj 10 40 print a;",
        "#X msg 10 70 set name 3 \\, set mute on \\, get name \\, get mute;",
        "#X obj 10 100 loadbang;",
        "#X obj 10 130 delay 1500;",
        "#X msg 10 160 \\; pd quit;",
        "#X connect 0 1 1 0;",
        "#X connect 2 0 0 0;",
        "#X connect 3 0 2 0;",
        "#X connect 3 0 4 0;",
        "#X connect 4 0 5 0;",
    ]
    patch = tmp_path / "attrs.pd"
    patch.write_text("\n".join(lines) + "\n")
    # Real time (no -batch): the answers come from the worker while Pd's clock runs at wall pace.
    p = pd.run(
        patch, [pdrun.external_dir()], binary=pdrun.pd_binary(), batch=False, sr=None, timeout=120
    )
    log = p.stdout + p.stderr
    assert p.returncode == 0, log
    assert "error" not in log.lower(), log
    assert "a: name 3" in log and "a: mute 1" in log, log

"""Shared pytest configuration. With NN_STRICT_SKIPS=1 (set by scripts/test.sh, hence in CI) a
skipped test fails the run: everything the test command needs is installed there, so a skip
would only hide a missing piece."""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("NN_STRICT_SKIPS") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped under NN_STRICT_SKIPS=1: {report.longrepr}"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """The test models of support/plain_models.py, saved once per session."""
    from support import plain_models

    d = tmp_path_factory.mktemp("models")
    for name in plain_models.BUILDERS:
        plain_models.save(name, d)
    return d

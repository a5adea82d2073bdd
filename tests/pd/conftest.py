import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import models  # noqa: E402


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """All test models of models.py, saved once per session."""
    d = tmp_path_factory.mktemp("models")
    for name in models.BUILDERS:
        models.save(name, d)
    return d

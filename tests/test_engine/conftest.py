"""Shared by the engine tests: ``toy_models`` on ``sys.path`` and one torch
thread with clean global runner state per test module."""
import os.path as osp
import sys
from typing import Iterator

import pytest

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..',
                            'test_models'))
import toy_models as tm  # noqa: E402


@pytest.fixture(autouse=True, scope='module')
def _runner_env() -> Iterator[None]:
    with tm.one_thread():
        yield
    tm.reset_runner_state()

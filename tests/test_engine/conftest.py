"""Shared by the engine tests: one torch thread and clean global runner
state per test module."""
from typing import Iterator

import pytest

from utils import toy_models as tm


@pytest.fixture(autouse=True, scope='module')
def _runner_env() -> Iterator[None]:
    with tm.one_thread():
        yield
    tm.reset_runner_state()

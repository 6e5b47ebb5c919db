"""Fixtures of the reliability tests (helpers live in
``tests/utils/reliability.py``)."""
from typing import Iterator

import pytest

from utils import reliability as _helpers


@pytest.fixture(scope='session')
def teacher_ckpt(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A teacher checkpoint of the tiny job (random weights, BN stats)."""
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    return _helpers.make_teacher_ckpt(str(path))


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Train on one thread: the tiny models are far faster so (no thread
    contention on shared CPUs) and numerics match the training processes,
    which get ``OMP_NUM_THREADS=1``."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def dist_run(tmp_path_factory: pytest.TempPathFactory,
             teacher_ckpt: str) -> dict:
    """One 2-process run (``tools/dist_train.sh``, gloo) of the tiny job:
    1 hint + 1 KD epoch of 4 iterations per rank, each rank recording what
    it did (:class:`utils.reliability.RecordRankHook`). Shared by the frozen-teacher
    and the distributed-consistency tests.

    Returns:
        dict: ``work_dir``, ``rc``, ``output``, ``seconds``.
    """
    import time
    root = tmp_path_factory.mktemp('dist')
    cfg = _helpers.fitnets_cfg(
        str(root / 'unused'), teacher_ckpt, hint_epochs=1, kd_epochs=1,
        num_samples=32, batch_size=4, record=True, audit=True)
    config = _helpers.dump_cfg(cfg, str(root / 'tiny_dist.py'))
    work_dir = root / 'work'
    start = time.monotonic()
    proc = _helpers.start_dist_train(config, str(work_dir), 2)
    try:
        rc = proc.wait(timeout=300)
    finally:
        _helpers.kill_group(proc)
    return dict(work_dir=work_dir, rc=rc,
                output=_helpers.output_of(str(work_dir), 'dist'),
                seconds=time.monotonic() - start)

"""A full disk at the best-checkpoint rotation loses neither the old nor
the new best (issue 21).

mmengine removes the previous ``best_*.pth`` before it writes the new
one; when that write fails (here: ENOSPC raised by the checkpoint write
for ``best_*`` files) the run would be left with no best checkpoint.
Now the previous one stays, whole and loadable, until the new one is
saved; on a disk with room the rotation is as before.

Protection: :mod:`fitnets_mm.compat.best_checkpoint_order` (with
:mod:`fitnets_mm.fileio.atomic_checkpoint`).
"""
import errno
import os
from pathlib import Path
from typing import Any, List, Sequence

import pytest
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS
from mmengine.runner import Runner

from fitnets_mm.fileio import atomic_checkpoint, safe_load
from utils import reliability as H


@METRICS.register_module(force=True)
class RisingScore(BaseMetric):
    """``score`` = how many times it was computed: every validation is a
    new best."""

    calls = 0

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        self.results.append(1)

    def compute_metrics(self, results: List[Any]) -> dict:
        RisingScore.calls += 1
        return dict(score=float(RisingScore.calls))


def _runner(work_dir: Path, teacher_ckpt: str) -> Runner:
    cfg = H.fitnets_cfg(str(work_dir), teacher_ckpt, hint_epochs=1,
                        kd_epochs=2, num_samples=16)
    cfg.val_dataloader = dict(cfg.train_dataloader,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False))
    cfg.val_cfg = dict()
    cfg.val_evaluator = dict(type='RisingScore')
    cfg.default_hooks.checkpoint.update(save_best='score', rule='greater')
    cfg.experiment_name = f'best_{work_dir.parent.name}_{work_dir.name}'
    RisingScore.calls = 0
    return Runner.from_cfg(cfg)


@pytest.mark.slow
def test_full_disk_at_best_rotation_keeps_the_old_best(
        tmp_path: Path, teacher_ckpt: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    work_dir = tmp_path / 'work'
    write = atomic_checkpoint.atomic_write

    def full_for_second_best(path: Any, data: bytes) -> None:
        if Path(path).name == 'best_score_epoch_2.pth':
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(path, data)

    monkeypatch.setattr(atomic_checkpoint, 'atomic_write',
                        full_for_second_best)
    with pytest.raises(OSError) as err:
        _runner(work_dir, teacher_ckpt).train()
    assert err.value.errno == errno.ENOSPC
    old_best = work_dir / 'best_score_epoch_1.pth'
    assert old_best.exists(), 'the previous best checkpoint was removed'
    assert 'state_dict' in safe_load(str(old_best))
    assert not (work_dir / 'best_score_epoch_2.pth').exists()
    assert not [p for p in work_dir.iterdir() if '.tmp.' in p.name]


@pytest.mark.slow
def test_best_rotation_with_room_keeps_the_new_best(
        tmp_path: Path, teacher_ckpt: str) -> None:
    work_dir = tmp_path / 'work'
    _runner(work_dir, teacher_ckpt).train()
    bests = sorted(p.name for p in work_dir.glob('best_*.pth'))
    assert bests == ['best_score_epoch_3.pth']
    assert 'state_dict' in safe_load(str(work_dir / bests[0]))

"""Guarantee 2, continued: what a killed or failed write leaves, and what
``--resume auto`` may fall back to.

* ``--resume auto`` falls back only to checkpoints with the whole training
  state (never to a ``best_*.pth``, which has no optimizer state: Adam's
  moments and the learning rate would silently restart);
* temporaries of killed writes (``.epoch_N.pth.tmp.PID``) are removed
  before the next write and on ``--resume auto``, those of live writers
  are kept;
* a failed write (a full disk) names the file, leaves the old file and no
  temporary;
* distributed evaluation collects its results under the work dir, not in
  ``./.dist_test``.

Protection: :mod:`fitnets_mm.fileio.atomic_checkpoint`,
:mod:`fitnets_mm.compat.dist_collect_dir`.
"""
import errno
import os
import subprocess
import sys
import time
from pathlib import Path

from utils import reliability as H
import pytest
import torch
from mmengine.runner import Runner

from fitnets_mm.fileio.atomic_checkpoint import (atomic_write,
                                                 find_latest_checkpoint,
                                                 remove_stale_temporaries)


def _checkpoint(path: Path, lr: float, optimizer: bool = True) -> Path:
    ckpt = dict(state_dict=dict(w=torch.ones(2)), message_hub=dict(),
                meta=dict(epoch=1, iter=4))
    if optimizer:
        ckpt['optimizer'] = dict(state={}, param_groups=[dict(lr=lr)])
    torch.save(ckpt, str(path))
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_resume_auto_never_falls_back_to_best(tmp_path: Path) -> None:
    epoch_1 = _checkpoint(tmp_path / 'epoch_1.pth', lr=0.1)
    time.sleep(0.01)
    best = _checkpoint(tmp_path / 'best_accuracy_top1_epoch_2.pth', lr=0.1,
                       optimizer=False)
    epoch_2 = tmp_path / 'epoch_2.pth'
    epoch_2.write_bytes(epoch_1.read_bytes()[:200])  # damaged
    os.utime(best, (time.time() + 5, ) * 2)  # the newest file
    (tmp_path / 'last_checkpoint').write_text(str(epoch_2))
    assert find_latest_checkpoint(str(tmp_path)) == str(epoch_1)
    epoch_1.unlink()
    assert find_latest_checkpoint(str(tmp_path)) is None


def test_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    host = os.uname().nodename
    sleeper = subprocess.Popen([sys.executable, '-c',
                                'import time; time.sleep(60)'])
    try:
        dead = [tmp_path / f'.epoch_3.pth.tmp.{_dead_pid()}',
                tmp_path / f'.epoch_2.pth.tmp.{_dead_pid()}@{host}',
                tmp_path / '.epoch_1.pth.tmp.1@other-host']
        live = [tmp_path / f'.epoch_3.pth.tmp.{sleeper.pid}',
                tmp_path / f'.epoch_4.pth.tmp.{_dead_pid()}@other-host',
                tmp_path / f'.epoch_4.pth.tmp.{os.getpid()}']
        for path in dead + live:
            path.write_bytes(b'partial')
        old = time.time() - 2 * 24 * 3600
        os.utime(dead[2], (old, old))  # another host's, two days old
        removed = remove_stale_temporaries(str(tmp_path))
        assert sorted(removed) == sorted(str(p) for p in dead)
        assert all(p.exists() for p in live)
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize('how', ['write', 'resume_auto'])
def test_leftovers_go_on_the_next_write_or_resume(tmp_path: Path,
                                                  how: str) -> None:
    leftover = tmp_path / f'.epoch_2.pth.tmp.{_dead_pid()}'
    leftover.write_bytes(b'x' * 1000)
    if how == 'write':
        atomic_write(tmp_path / 'epoch_3.pth', b'data')
    else:
        find_latest_checkpoint(str(tmp_path))
    assert not leftover.exists()


def test_full_disk_names_the_file(tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old')

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', full)
    with pytest.raises(OSError) as err:
        atomic_write(target, b'new' * 100)
    assert err.value.errno == errno.ENOSPC
    assert str(target) in str(err.value)
    assert 'No space left on device' in str(err.value)
    assert target.read_bytes() == b'old'
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']


def test_distributed_results_are_collected_in_the_work_dir(
        tmp_path: Path, teacher_ckpt: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt)
    cfg.experiment_name = f'hygiene_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    metrics = [dict(type='Accuracy'), dict(type='Accuracy',
                                           collect_device='gpu')]
    alone = runner.build_evaluator(metrics)
    assert alone.metrics[0].collect_dir is None  # one process: unchanged
    import mmengine.dist
    monkeypatch.setattr(mmengine.dist, 'get_world_size', lambda: 2)
    evaluator = runner.build_evaluator(metrics)
    assert evaluator.metrics[0].collect_dir == str(tmp_path / 'work' /
                                                   '.dist_test')
    assert evaluator.metrics[1].collect_dir is None  # not collected by file

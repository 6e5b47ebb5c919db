"""Guarantee 5: no orphans, no endless hangs in multi-process runs.

* ``kill -9`` of the launcher (``tools/dist_train.sh``, which ``exec``\\ s
  ``torchrun``) ends both ranks within 30 s: no rank keeps training and
  writing checkpoints into the work dir.
* A rank stopped with SIGSTOP ends the job within the process-group
  timeout (``env_cfg.dist_cfg.timeout``, here 5 s) plus the launcher's
  30 s grace period, with a message saying what happened and which option
  to change.
* Without ``dist_cfg.timeout``, CPU (Gloo) runs use a short default.

Protection: :mod:`fitnets_mm.dist.launcher_watchdog`, installed by
:mod:`fitnets_mm.compat.cpu_distributed` for ``--launcher pytorch``.
"""
import datetime
import os
import signal
import time
from pathlib import Path

from utils import reliability as H
import pytest

from fitnets_mm.dist.launcher_watchdog import (DEFAULT_CPU_TIMEOUT_S,
                                                 dist_timeout)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped, does not)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _kill(pids: list) -> None:
    """SIGKILL what is left of ``pids`` (a stopped rank included)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _rank_pids(work_dir: Path, proc: object) -> list:
    files = [work_dir / f'pid_rank{r}' for r in (0, 1)]
    H.wait_for(lambda: all(f.exists() and f.read_text() for f in files),
               120, proc, what='both ranks to start training')
    return [int(f.read_text()) for f in files]


def _long_job(tmp_path: Path, teacher_ckpt: str) -> str:
    cfg = H.fitnets_cfg(str(tmp_path / 'unused'), teacher_ckpt,
                        hint_epochs=1, kd_epochs=200, batch_size=4,
                        throttle=0.1, record=True)
    return H.dump_cfg(cfg, str(tmp_path / 'long.py'))


@pytest.mark.skipif(not os.path.isdir('/proc'), reason='reads /proc')
def test_kill_9_of_the_launcher_ends_both_ranks(tmp_path: Path,
                                                teacher_ckpt: str) -> None:
    work_dir = tmp_path / 'work'
    proc = H.start_dist_train(_long_job(tmp_path, teacher_ckpt),
                              str(work_dir), 2)
    ranks = []
    try:
        ranks = _rank_pids(work_dir, proc)
        os.kill(proc.pid, signal.SIGKILL)  # the launcher, not its group
        proc.wait(timeout=10)
        start = time.monotonic()
        while time.monotonic() - start < 30 and any(map(_alive, ranks)):
            time.sleep(0.2)
        survivors = [pid for pid in ranks if _alive(pid)]
        assert not survivors, \
            f'ranks {survivors} outlived their launcher by 30 s'
    finally:
        _kill(ranks)
        H.kill_group(proc)


@pytest.mark.skipif(not os.path.isdir('/proc'), reason='reads /proc')
def test_stopped_rank_ends_the_job_within_the_timeout(
        tmp_path: Path, teacher_ckpt: str) -> None:
    work_dir = tmp_path / 'work'
    proc = H.start_dist_train(_long_job(tmp_path, teacher_ckpt),
                              str(work_dir), 2, '--cfg-options',
                              'env_cfg.dist_cfg.timeout=5')
    ranks = []
    try:
        ranks = _rank_pids(work_dir, proc)
        time.sleep(1)
        os.kill(ranks[1], signal.SIGSTOP)
        start = time.monotonic()
        rc = proc.wait(timeout=5 + 30 + 25)  # timeout + grace + slack
        took = time.monotonic() - start
    finally:
        _kill(ranks)
        H.kill_group(proc)
    output = H.output_of(str(work_dir), 'dist')
    assert rc != 0
    assert 'process-group timeout: 5 s' in output
    assert 'gave up waiting for the other ranks' in output, output[-3000:]
    assert 'env_cfg.dist_cfg.timeout=SECONDS' in output
    assert took < 60


def test_cpu_default_timeout_is_short() -> None:
    kwargs: dict = {}
    assert dist_timeout(kwargs, on_cpu=True) == datetime.timedelta(
        seconds=DEFAULT_CPU_TIMEOUT_S)
    assert kwargs['timeout'].total_seconds() == DEFAULT_CPU_TIMEOUT_S <= 300
    chosen = {'timeout': datetime.timedelta(seconds=7)}
    assert dist_timeout(chosen, on_cpu=True).total_seconds() == 7
    assert dist_timeout({}, on_cpu=False) is None  # the backend's default

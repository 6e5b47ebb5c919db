"""SIGINT (Ctrl-C) to a 2-rank run ends every rank with one line each,
not ~130 lines of ``KeyboardInterrupt`` tracebacks (issue 21).

Ctrl-C reaches ``torchrun`` (the ranks run in sessions of their own);
torchrun passes SIGINT on to each rank.

Protection: :mod:`fitnets_mm.engine.runner.interrupt` around
``tools/train.py`` and ``tools/dist_run.py`` (the launcher of
``tools/dist_train.sh``).
"""
import os
import re
import signal
import time
from pathlib import Path

from utils import reliability as H
import pytest


@pytest.mark.slow
def test_sigint_ends_each_rank_with_one_line(tmp_path: Path,
                                             teacher_ckpt: str) -> None:
    cfg = H.fitnets_cfg(str(tmp_path / 'unused'), teacher_ckpt,
                        hint_epochs=1, kd_epochs=200, batch_size=4,
                        throttle=0.1, record=True)
    config = H.dump_cfg(cfg, str(tmp_path / 'long.py'))
    work_dir = tmp_path / 'work'
    proc = H.start_dist_train(config, str(work_dir), 2)
    try:
        files = [work_dir / f'pid_rank{r}' for r in (0, 1)]
        H.wait_for(lambda: all(f.exists() and f.read_text() for f in files),
                   120, proc, what='both ranks to start training')
        time.sleep(1)
        before = len(H.output_of(str(work_dir), 'dist'))
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the foreground group
        rc = proc.wait(timeout=60)
    finally:
        H.kill_group(proc)
    after = H.output_of(str(work_dir), 'dist')[before:]
    lines = [line for line in after.splitlines() if line.strip()]
    assert 'Traceback' not in after, after[-4000:]
    assert 'KeyboardInterrupt' not in after, after[-4000:]
    for rank in (0, 1):
        mine = [line for line in lines
                if re.search(rf'fitnets_mm: rank {rank} stopped by SIGINT',
                             line)]
        assert len(mine) == 1, after[-4000:]
        assert '--resume' in mine[0]
    assert len(lines) <= 12, after[-4000:]
    assert rc != 0

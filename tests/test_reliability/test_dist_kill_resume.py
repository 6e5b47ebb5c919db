"""A 2-rank run (gloo, CPU) killed with SIGKILL in the middle of stage 2
and resumed with ``--resume`` ends bitwise equal to an uninterrupted 2-rank
run (issue 21).

Protections: :mod:`fitnets_mm.fileio.atomic_checkpoint`,
:mod:`fitnets_mm.dist.launcher_watchdog` (the ranks end with the killed
launcher) and mmengine's resume of model, optimizer, schedulers, message
hub and sampler seed.
"""
import os
import re
import time
from pathlib import Path

from utils import reliability as H
import pytest
import torch


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir('/proc'), reason='reads /proc')
def test_two_ranks_killed_in_stage_2_resume_bitwise(
        tmp_path: Path, teacher_ckpt: str) -> None:
    # 1 hint + 2 KD epochs of 4 iterations per rank; the throttle gives the
    # kill a window inside epoch 3 and changes no state.
    cfg = H.fitnets_cfg(str(tmp_path / 'unused'), teacher_ckpt,
                        hint_epochs=1, kd_epochs=2, num_samples=32,
                        batch_size=4, throttle=0.15, record=True)
    config = H.dump_cfg(cfg, str(tmp_path / 'tiny_dist.py'))
    ref_dir, run_dir = tmp_path / 'ref', tmp_path / 'run'

    ref = H.start_dist_train(config, str(ref_dir), 2, log_name='ref')
    try:
        assert ref.wait(timeout=300) == 0, H.output_of(str(ref_dir), 'ref')
    finally:
        H.kill_group(ref)

    run = H.start_dist_train(config, str(run_dir), 2, log_name='run1')
    try:
        started = re.compile(r'Epoch\(train\)\s+\[3\]\[')
        H.wait_for(lambda: (run_dir / 'epoch_2.pth').exists() and
                   bool(started.search(H.log_text(str(run_dir)))),
                   timeout=300, proc=run, what='epoch 3 (stage 2) to start')
        ranks = [int((run_dir / f'pid_rank{r}').read_text())
                 for r in (0, 1)]
    finally:
        H.kill_group(run)  # SIGKILL to the launcher's session
    assert not (run_dir / 'epoch_3.pth').exists(), 'the kill came too late'
    assert 'FitNets stage 2' in H.log_text(str(run_dir))
    deadline = time.monotonic() + 30
    while any(map(_alive, ranks)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_alive, ranks)), 'ranks outlived the launcher'

    run = H.start_dist_train(config, str(run_dir), 2, '--resume',
                             log_name='run2')
    try:
        assert run.wait(timeout=300) == 0, H.output_of(str(run_dir), 'run2')
    finally:
        H.kill_group(run)

    log = H.log_text(str(run_dir))
    assert f'resumed from the latest checkpoint {run_dir / "epoch_2.pth"}' \
        in log
    assert 'resumed epoch: 2, iter: 8' in log
    final = H.checkpoint_state(str(run_dir / 'epoch_3.pth'))
    expected = H.checkpoint_state(str(ref_dir / 'epoch_3.pth'))
    assert any(k.startswith('architecture.') for k in expected)
    H.assert_bitwise_equal(final, expected, 'whole model state, rank 0')
    for rank in (0, 1):  # what each rank held at the end
        got = torch.load(run_dir / f'rank{rank}.pth', weights_only=True)
        want = torch.load(ref_dir / f'rank{rank}.pth', weights_only=True)
        for part in ('student', 'teacher'):
            H.assert_bitwise_equal(got[part], want[part],
                                   f'rank {rank} {part}')

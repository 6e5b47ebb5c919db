"""Guarantee 6: distributed consistency.

``bash tools/dist_train.sh CONFIG 2`` (gloo on CPU) runs both stages; at the
end both ranks hold bitwise identical students (parameters and buffers,
BatchNorm statistics included), both switched stage
at the same iteration, and only rank 0 wrote checkpoints and logs. Killing
one rank ends the whole job with a non-zero exit within a bounded time.

Protections: DistributedDataParallel (gradients averaged over ranks, buffers
broadcast) as set up by :mod:`fitnets_mm.compat.cpu_distributed` with
``find_unused_parameters=True`` (stage 1 leaves most of the student
unused); :class:`FitNetsTrainLoop` deriving the stage from the epoch alone;
:class:`BroadcastBuffersHook` (rank 0's BatchNorm statistics on every rank
after each epoch); mmengine's ``master_only`` saving and logging; torchrun's agent stopping the
job when a worker dies.
"""
import json
import os
import re
import signal
import time
from pathlib import Path

from utils import reliability as H
import torch

#: Seconds within which the job must end after a rank is killed.
KILL_DEADLINE = 60


def _record(work_dir: Path, rank: int) -> dict:
    with open(work_dir / f'rank{rank}.json') as f:
        return json.load(f)


def test_ranks_hold_identical_students(dist_run: dict) -> None:
    assert dist_run['rc'] == 0, dist_run['output'][-5000:]
    work_dir = dist_run['work_dir']
    states = [torch.load(str(work_dir / f'rank{r}.pth'), weights_only=True)
              for r in (0, 1)]
    H.assert_bitwise_equal(states[0]['student_params'],
                           states[1]['student_params'],
                           'student parameters of rank 0 vs rank 1')
    # BatchNorm statistics too: each rank's last batch leaves its own, and
    # BroadcastBuffersHook gives every rank rank 0's after each epoch.
    params = set(states[0]['student_params'])
    H.assert_bitwise_equal(states[0]['student'], states[1]['student'],
                           'student state (buffers too) of rank 0 vs rank 1')
    assert params and params < set(states[0]['student'])
    # The saved checkpoint is that same student.
    final = H.checkpoint_state(str(work_dir / 'epoch_2.pth'))
    H.assert_bitwise_equal(
        {k[len('architecture.'):]: v for k, v in final.items()
         if k.startswith('architecture.')}, states[0]['student'],
        'student in epoch_2.pth vs rank 0')
    # Both stages ran.
    log = H.log_text(str(work_dir))
    assert 'FitNets stage 1' in log and 'FitNets stage 2' in log


def test_ranks_switch_stage_at_the_same_iteration(dist_run: dict) -> None:
    assert dist_run['rc'] == 0, dist_run['output'][-5000:]
    stages = [_record(dist_run['work_dir'], r)['stages'] for r in (0, 1)]
    assert stages[0] == stages[1]
    # 1 hint epoch of 32 images / (2 ranks x 4 per batch) = 4 iterations.
    assert [s for _, s in stages[0]] == ['hint'] * 4 + ['kd'] * 4
    switch = [i for i, s in stages[0] if s == 'kd'][0]
    assert switch == 4


def test_only_rank0_writes_checkpoints_and_logs(dist_run: dict) -> None:
    assert dist_run['rc'] == 0, dist_run['output'][-5000:]
    work_dir = dist_run['work_dir']
    records = [_record(work_dir, r) for r in (0, 1)]
    # Checkpoint saves began on rank 0 only, after each epoch (and at the
    # end of stage 1, hint_stage_last.pth, by HintStageHook) ...
    assert records[0]['saves'] == [4, 4, 8]
    assert records[1]['saves'] == []
    # ... and rank 1 wrote no file at all into the work directory.
    assert records[1]['writes'] == []
    assert {'epoch_1.pth', 'epoch_2.pth', 'last_checkpoint'} <= set(
        records[0]['writes'])
    # One log file, no per-rank logs.
    logs = sorted(str(p.relative_to(work_dir))
                  for p in work_dir.rglob('*.log'))
    assert len(logs) == 1, logs
    ours = {'pid_rank1', 'rank1.json', 'rank1.pth'}
    rank1_files = [p.name for p in work_dir.rglob('*')
                   if re.search(r'rank_?1', p.name) and p.name not in ours]
    assert rank1_files == []
    # No temporary file of an atomic write was left behind.
    assert not list(work_dir.glob('.*.tmp.*'))


def test_killing_one_rank_ends_the_job(tmp_path: Path,
                                       teacher_ckpt: str) -> None:
    cfg = H.fitnets_cfg(str(tmp_path / 'unused'), teacher_ckpt,
                        hint_epochs=1, kd_epochs=50, num_samples=32,
                        batch_size=4, throttle=0.05, record=True)
    config = H.dump_cfg(cfg, str(tmp_path / 'tiny_long.py'))
    work_dir = tmp_path / 'work'
    proc = H.start_dist_train(config, str(work_dir), 2, log_name='killed')
    try:
        H.wait_for(
            lambda: (work_dir / 'pid_rank1').exists() and re.search(
                r'Epoch\(train\)\s+\[1\]\[2/',
                H.log_text(str(work_dir))) is not None,
            timeout=180, proc=proc, what='training to start')
        pid = int((work_dir / 'pid_rank1').read_text())
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        try:
            rc = proc.wait(timeout=KILL_DEADLINE)
        except Exception:
            raise AssertionError(
                f'the job still ran {KILL_DEADLINE}s after rank 1 was killed'
            ) from None
        elapsed = time.monotonic() - killed_at
    finally:
        H.kill_group(proc)
    assert rc != 0, 'the job reported success after losing a rank'
    assert elapsed < KILL_DEADLINE
    output = H.output_of(str(work_dir), 'killed')
    assert 'Signal 9' in output or 'SIGKILL' in output or \
        'exitcode' in output, output[-3000:]
    assert not (work_dir / 'rank0.json').exists(), \
        'rank 0 finished training alone'

"""``benchmarks/time_to_student.py``: the phase timer splits a Runner's
training, and ``--quick`` times the product against the floor."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from utils import toy_models as tm
from utils.benchmarks import load_benchmark

REPO = Path(__file__).resolve().parents[2]


def test_phase_timer_splits_a_training(tmp_path, monkeypatch) -> None:
    timer = load_benchmark('phase_timer')
    monkeypatch.setenv(timer.START_ENV, repr(time.time() - 5.0))
    hook = timer.PhaseTimerHook()
    with tm.one_thread():
        runner = tm.build_runner(
            work_dir=str(tmp_path), hint_epochs=1, kd_epochs=1,
            custom_hooks=[hook],
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                               checkpoint=dict(type='CheckpointHook',
                                               interval=1)))
        try:
            runner.train()
        finally:
            tm.reset_runner_state()
    saved = json.loads((tmp_path / 'phase_times.json').read_text())
    assert saved['iters'] == 4  # 2 epochs of 2 iterations
    wall = saved['wall']
    assert set(wall) == set(timer.PHASES)
    assert wall['start-up'] >= 5.0  # counted from the given launch time
    for phase in ('step', 'logging', 'checkpointing'):
        assert wall[phase] > 0, phase
    assert wall['validation'] == 0  # no val loop in this runner
    assert all(v >= 0 for v in wall.values()), wall
    assert all(v >= 0 for v in saved['cpu'].values()), saved['cpu']


def test_leaf_config_changes_only_data_epochs_teacher_and_timer(
        tmp_path) -> None:
    from mmengine.config import Config
    bench = load_benchmark('time_to_student')
    args = bench.parse_args(['--quick', '--data', str(tmp_path)])
    leaf = tmp_path / 'leaf.py'
    leaf.write_text(bench.leaf_config(args, '/x/teacher.pth'))
    cfg = Config.fromfile(str(leaf))
    paper = Config.fromfile(bench.FITNETS_CFG)
    assert cfg.model.teacher_ckpt == '/x/teacher.pth'
    assert cfg.model.hints == paper.model.hints
    assert cfg.optim_wrapper == paper.optim_wrapper
    assert cfg.default_hooks == paper.default_hooks
    assert (cfg.train_cfg.hint_epochs, cfg.train_cfg.kd_epochs) == (1, 1)
    assert list(cfg.train_dataloader.dataset.indices) == list(range(512))
    assert cfg.train_dataloader.num_workers == \
        paper.train_dataloader.num_workers
    types = [h['type'] for h in cfg.custom_hooks]
    assert types == [h['type'] for h in paper.custom_hooks] + [
        'PhaseTimerHook']
    hint_val = next(h for h in cfg.custom_hooks
                    if 'HintValidation' in h['type'])
    assert list(hint_val['dataloader']['dataset']['indices']) == list(
        range(512, 1512))


@pytest.mark.slow  # three whole (tiny) runs in subprocesses: ~1-4 min
def test_time_to_student_quick(tmp_path, mnist_root) -> None:
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, str(REPO / 'benchmarks' / 'time_to_student.py'),
         '--quick', '--data', str(mnist_root), '--out',
         str(tmp_path / 'work')],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for kind in ('product', 'floor', 'floor_copy'):
        row = [ln for ln in out.splitlines() if ln.startswith(f'| {kind} |')]
        assert len(row) == 1, out
        wall, cpu, acc = map(float, re.findall(r'\d+\.\d+', row[0]))
        assert wall > 0 and cpu > 0 and 0 <= acc <= 100
    assert '| product / floor |' in out
    assert '| noise: floor copy / floor |' in out
    for phase in ('start-up', 'step', 'validation', 'checkpointing',
                  'logging', 'data and loop'):
        assert f'| {phase} |' in out, phase
    # the product ran tools/train.py and saved its checkpoints
    assert list((tmp_path / 'work' / 'product_0').glob('epoch_*.pth'))


def test_nested_calls_count_for_their_own_phase() -> None:
    # the best checkpoint, saved inside the validation, is checkpointing
    timer = load_benchmark('phase_timer')
    hook = timer.PhaseTimerHook()
    inner = hook._timed(lambda: time.sleep(0.3), 'checkpointing')
    outer = hook._timed(lambda: (time.sleep(0.03), inner()), 'validation')
    outer()
    assert hook.wall['checkpointing'] >= 0.3
    assert 0.03 <= hook.wall['validation'] < 0.25

"""The tools on a real two-stage run: analyze_logs, get_flops, test.py's
``--show-dir`` / ``--tta``, the stage tags of the scalars.

``tests/data/logs/fitnets_two_stage_scalars.json`` is the ``scalars.json``
of a real ``tools/train.py`` run of ``utils.reliability.fitnets_cfg`` (2
hint epochs, 2 KD epochs, 8 iterations per epoch, logger interval 3, a
validation per epoch), written through :class:`StageLogProcessor`;
``fitnets_two_stage_untagged_scalars.json`` is the same run logged by
mmengine's plain ``LogProcessor`` (logs written before the stage tags).
Stage 2 begins at iteration 17; its first logged record is iteration 19.
The slow test makes such a run afresh and runs every tool on it.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, List

import pytest
from mmengine.runner import LogProcessor

from fitnets_mm.analysis.learning_curves import (iters_per_epoch,
                                                 load_scalars, split_stages,
                                                 train_time)
from fitnets_mm.engine.runner import StageLogProcessor

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS = REPO_ROOT / 'tests'
LOGS = TESTS / 'data' / 'logs'
TAGGED = LOGS / 'fitnets_two_stage_scalars.json'
UNTAGGED = LOGS / 'fitnets_two_stage_untagged_scalars.json'
ANALYZE = REPO_ROOT / 'tools' / 'analysis' / 'analyze_logs.py'


def _run(args: List, cwd: Path, timeout: float = 600,
         check: bool = True) -> subprocess.CompletedProcess:
    env: Dict[str, str] = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(TESTS), str(REPO_ROOT), env.get('PYTHONPATH', ''))
        if p)
    env.update(OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore',
               NO_PROXY='127.0.0.1', no_proxy='127.0.0.1')
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize('log', [TAGGED, UNTAGGED])
def test_split_stages_of_a_real_log(log: Path) -> None:
    records = load_scalars(log)
    curves = split_stages(records)
    assert [r['iter'] for r in curves.hint] == [3, 6, 11, 14]
    assert [r['iter'] for r in curves.kd] == [19, 22, 27, 30]
    assert iters_per_epoch(curves.hint + curves.kd) == 8
    # The first iteration of stage 2, not its first logged one (19).
    assert curves.switch_iter == 17 and curves.switch_epoch == 3
    assert curves.loss_keys('hint') == ['loss', 'hint.loss_ht']
    assert curves.loss_keys('kd') == ['loss', 'student.loss',
                                      'distill.loss_kd']


def test_iters_per_epoch_is_the_smallest_consistent() -> None:
    # Epoch ends logged: the count is pinned.
    assert iters_per_epoch([dict(epoch=1, iter=64), dict(epoch=2, iter=65),
                            dict(epoch=2, iter=128)]) == 64
    # Logged every 50 iterations of 64-iteration epochs: 50 to 99 fit, the
    # smallest is taken (hence StageLogProcessor's stage_start_iter).
    assert iters_per_epoch([dict(epoch=1, iter=50), dict(epoch=2, iter=100),
                            dict(epoch=3, iter=150)]) == 50
    assert iters_per_epoch([dict(iter=3)]) is None


def test_stage_start_iter_marks_the_switch() -> None:
    # The README's MNIST run: 64 iterations per epoch, logged every 50.
    records = [dict(epoch=1, iter=50, stage=1, **{'stage1/loss': 9e3}),
               dict(epoch=2, iter=100, stage=2, stage_start_iter=65,
                    **{'stage2/loss': 3.0})]
    curves = split_stages(records)
    assert curves.switch_iter == 65 and curves.switch_epoch == 2
    assert curves.hint[0] == dict(epoch=1, iter=50, loss=9e3)


def test_stage_log_processor_tags_training_losses(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tag = {'lr': 0.1, 'loss': 9000.0, 'hint.loss_ht': 9000.0,
           'lambda_loss_kd': 4.0, 'time': 0.5, 'iter': 3}
    monkeypatch.setattr(LogProcessor, 'get_log_after_iter',
                        lambda self, runner, idx, mode: (dict(tag), 'line'))
    processor = StageLogProcessor()
    for stage, number in (('hint', 1), ('kd', 2)):
        runner = SimpleNamespace(model=SimpleNamespace(stage=stage))
        tagged, line = processor.get_log_after_iter(runner, 0, 'train')
        assert line == 'line'
        assert tagged == {'lr': 0.1, f'stage{number}/loss': 9000.0,
                          f'stage{number}/hint.loss_ht': 9000.0,
                          'lambda_loss_kd': 4.0, 'time': 0.5, 'iter': 3,
                          'stage': number}
    loop = SimpleNamespace(stage_span=lambda stage: (0, 2) if stage == 'hint'
                           else (2, 4), dataloader=[None] * 8)
    runner = SimpleNamespace(model=SimpleNamespace(stage='kd'),
                             train_loop=loop)
    assert processor.get_log_after_iter(
        runner, 0, 'train')[0]['stage_start_iter'] == 17
    plain = SimpleNamespace(model=SimpleNamespace())
    assert processor.get_log_after_iter(plain, 0, 'train')[0] == tag
    staged = SimpleNamespace(model=SimpleNamespace(stage='hint'))
    assert processor.get_log_after_iter(staged, 0, 'val')[0] == tag


def test_analyze_logs_plot_curve(tmp_path: Path) -> None:
    out = tmp_path / 'curves.png'
    proc = _run([ANALYZE, 'plot_curve', TAGGED, '--out', out], tmp_path)
    assert out.is_file()
    assert 'switch to stage 2 at iteration 17 (epoch 3)' in proc.stdout
    assert 'hint: 4 records, iterations 3-14' in proc.stdout
    assert 'val accuracy/top1: last 25 (epoch 4), best 25 (epoch 4)' in \
        proc.stdout
    # The command may be left out, as before.
    plain = _run([ANALYZE, UNTAGGED, '--out', tmp_path / 'plain.png'],
                 tmp_path)
    assert 'switch to stage 2 at iteration 17 (epoch 3)' in plain.stdout


def test_analyze_logs_keys_and_legend(tmp_path: Path) -> None:
    out = tmp_path / 'two.png'
    proc = _run([ANALYZE, 'plot_curve', TAGGED, UNTAGGED, '--keys', 'loss',
                 'accuracy/top1', '--legend', 'tagged', 'untagged', '--out',
                 out], tmp_path)
    assert out.is_file()
    for name in ('tagged', 'untagged'):
        assert f'{name}: switch to stage 2 at iteration 17' in proc.stdout
    bad = _run([ANALYZE, 'plot_curve', TAGGED, '--keys', 'no_such_key',
                '--out', tmp_path / 'bad.png'], tmp_path, check=False)
    assert bad.returncode == 1 and 'Traceback' not in bad.stderr
    assert "--keys ['no_such_key'] are in none of the logs" in bad.stderr
    short = _run([ANALYZE, 'plot_curve', TAGGED, UNTAGGED, '--legend', 'a'],
                 tmp_path, check=False)
    assert short.returncode == 2
    assert '--legend has 1 names for 2 logs' in short.stderr


def test_analyze_logs_cal_train_time(tmp_path: Path) -> None:
    proc = _run([ANALYZE, 'cal_train_time', TAGGED], tmp_path)
    report = train_time(split_stages(load_scalars(TAGGED)))
    records = [json.loads(line) for line in TAGGED.read_text().splitlines()]
    hint_times = [r['time'] for r in records if r.get('stage') == 1]
    assert report['stage 1 (hint)']['mean'] == pytest.approx(
        sum(hint_times) / len(hint_times))
    for part in ('stage 1 (hint)', 'stage 2', 'all'):
        numbers = report[part]
        assert (f'{part}: average iter time {numbers["mean"]:.4f} s/iter; '
                f'slowest epoch {numbers["slowest_epoch"]}') in proc.stdout


def _tiny_config(folder: Path, teacher_ckpt: str) -> Path:
    from utils import reliability
    return Path(reliability.logged_two_stage_config(str(folder),
                                                    teacher_ckpt))


def test_get_flops_counts_the_student_without_the_teacher_weights(
        tmp_path: Path) -> None:
    from conftest import find_free_port
    url = f'http://127.0.0.1:{find_free_port()}/teacher.pth'  # unreachable
    config = _tiny_config(tmp_path, url)
    proc = _run([REPO_ROOT / 'tools' / 'analysis' / 'get_flops.py', config,
                 '--stage1'], tmp_path)
    assert 'Model: student (model.architecture) (ImageClassifier)' in \
        proc.stdout
    assert 'Input shape: (3, 8, 8)' in proc.stdout
    from mmengine.analysis import get_model_complexity_info
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    student = MODELS.build(Config.fromfile(config).model.architecture)
    student.eval()  # as the tool builds it
    info = get_model_complexity_info(student, input_shape=(3, 8, 8),
                                     show_table=False, show_arch=False)
    assert f'Flops: {info["flops_str"]}\n' in proc.stdout
    assert f'Params: {info["params_str"]}\n' in proc.stdout
    stage1 = re.search(r'Stage 1 forward \(student up to backbone.layer2\): '
                       r'([\d.]+)M .* \(whole student: ([\d.]+)M\)',
                       proc.stdout)
    assert stage1 and 0 < float(stage1.group(1)) < float(stage1.group(2))


@pytest.mark.slow
def test_tools_on_a_fresh_two_stage_run(tmp_path: Path) -> None:
    from utils import reliability
    teacher = reliability.make_teacher_ckpt(str(tmp_path / 'teacher.pth'))
    config = _tiny_config(tmp_path, teacher)
    _run([REPO_ROOT / 'tools' / 'train.py', config], tmp_path)
    scalars = next((tmp_path / 'work').glob('*/vis_data/scalars.json'))
    records = load_scalars(scalars)
    train = [r for r in records if 'iter' in r]
    # TensorBoard / W&B / scalars.json get one tag per stage.
    assert all('loss' not in r for r in train)
    assert {r['stage'] for r in train} == {1, 2}
    assert all('stage1/loss' in r for r in train if r['stage'] == 1)
    assert all('stage2/loss' in r for r in train if r['stage'] == 2)
    curves = split_stages(records)
    assert curves.switch_iter == 17
    proc = _run([ANALYZE, scalars, '--out', tmp_path / 'c.png'], tmp_path)
    assert 'switch to stage 2 at iteration 17 (epoch 3)' in proc.stdout

    checkpoint = tmp_path / 'work' / 'epoch_4.pth'
    shows = tmp_path / 'shows'
    proc = _run([REPO_ROOT / 'tools' / 'test.py', config, checkpoint,
                 '--work-dir', tmp_path / 'test', '--show-dir', shows],
                tmp_path)
    assert len(list(shows.glob('*.png'))) == 16
    accuracy = re.search(r'accuracy/top1: ([\d.]+)', proc.stdout)
    assert accuracy, proc.stdout[-2000:]
    proc = _run([REPO_ROOT / 'tools' / 'test.py', config, checkpoint,
                 '--work-dir', tmp_path / 'tta', '--tta'], tmp_path)
    assert re.search(r'accuracy/top1: [\d.]+', proc.stdout)
    assert 'unexpected key' not in proc.stdout + proc.stderr
    assert 'missing keys' not in proc.stdout + proc.stderr
    both = _run([REPO_ROOT / 'tools' / 'test.py', config, checkpoint,
                 '--show-dir', shows, '--tta'], tmp_path, check=False)
    assert both.returncode == 2 and '--show-dir cannot draw --tta' in \
        both.stderr

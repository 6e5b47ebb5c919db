"""The documented training commands, run as written on tiny data.

Each test reads its shell block from the documentation
(:func:`utils.doc_blocks.doc_block`) and runs the commands in a folder laid
out like a clone (``configs`` beside the working directory), changing only
what a test must: fewer epochs (checkpoint names follow) and, for CIFAR-10,
a few fake images in the real format and a local, randomly initialised
teacher instead of the zoo download. Whole trainings: ``slow``.
"""
import glob
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import torch
from utils.benchmarks import load_benchmark
from utils.doc_blocks import commands, doc_block
from utils.tool_checkpoints import run_tool, write_images

from conftest import REPO_ROOT, SHARED_DIR

pytestmark = pytest.mark.slow

#: CIFAR-10 images per split: one batch of the main config (batch 128).
TINY = '8'


def _clone(tmp_path: Path) -> Path:
    clone = tmp_path / 'fitnets_mm'
    clone.mkdir()
    for name in ('configs', 'tools'):
        (clone / name).symlink_to(REPO_ROOT / name)
    return clone


def _swap(args: List[str], swaps: Dict[str, str]) -> List[str]:
    out = []
    for arg in args:
        for old, new in swaps.items():
            arg = arg.replace(old, new)
        out.append(arg)
    return out


def _zoo_teacher(path: Path) -> str:
    """A randomly initialised ResNet-34 in the zoo checkpoint's layout."""
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'fitnet_cifar10.py'))
    teacher_cfg = get_config(cfg.model.teacher.cfg_path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        teacher = MODELS.build(teacher_cfg.model)
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return str(path)


def test_main_job_then_the_tools_after_training(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """README "The main job" and user_guides/tools.md "After training"."""
    fake_data = load_benchmark('fake_data')
    from mmpretrain.datasets import CIFAR10
    for attr in ('train_list', 'test_list', 'meta'):
        monkeypatch.setattr(CIFAR10, attr, getattr(CIFAR10, attr))
    clone = _clone(tmp_path)
    fake_data.use_cifar10_checksums(
        fake_data.write_fake_cifar10(clone / 'data' / 'cifar10',
                                     per_batch=4))
    monkeypatch.chdir(clone)
    for name in ('img1.png', 'img2.png'):
        write_images(tmp_path / 'images', 1)[0].rename(clone / name)
    teacher = _zoo_teacher(tmp_path / 'resnet34_cifar10.pth')
    small = [f'{split}_dataloader.{key}'
             for split in ('train', 'val', 'test')
             for key in (f'dataset.indices={TINY}', 'num_workers=0',
                         'persistent_workers=False')]

    main_job = [shlex.split(c) for c in commands(doc_block('main-job'))]
    after = [shlex.split(c) for c in commands(doc_block('after-training'))]
    assert [c[1] for c in main_job] == [
        'tools/train.py', 'tools/model_converters/fitnets_to_student.py',
        'tools/test.py'
    ]
    assert [c[1] for c in after] == [
        'tools/model_converters/fitnets_to_student.py', 'tools/test.py',
        'tools/analysis/visualize_hints.py', 'tools/analysis/analyze_logs.py'
    ]
    # 1 hint + 1 KD epoch instead of 40 + 200: epoch_2.pth is the last.
    swaps = {'epoch_240.pth': 'epoch_2.pth'}
    outputs = []
    for args in main_job + after:
        assert args[0] == 'python'
        tool, rest = args[1], _swap(args[2:], swaps)
        if tool == 'tools/train.py':
            rest += ['--cfg-options', f'model.teacher_ckpt={teacher}',
                     'train_cfg.hint_epochs=1', 'train_cfg.kd_epochs=1',
                     *small]
        elif tool == 'tools/test.py':
            rest += ['--cfg-options', *small]
        rest = [m for a in rest for m in (sorted(glob.glob(a)) or [a])]
        code, out = run_tool(tool, rest, capsys)
        assert code == 0, f'{args}:\n{out[-3000:]}'
        outputs.append(out)
    work_dir = clone / 'work_dirs' / 'fitnet_cifar10'
    assert (work_dir / 'epoch_2.pth').is_file()
    assert (work_dir / 'hint_stage_last.pth').is_file()
    assert (clone / 'student.pth').is_file()
    student = torch.load(clone / 'student.pth', weights_only=True)
    assert not any(k.startswith(('teacher.', 'regressors.'))
                   for k in student['state_dict'])
    assert (clone / 'hints.png').stat().st_size > 0
    assert (clone / 'curves.png').stat().st_size > 0


def test_fsp_on_mnist(tmp_path: Path) -> None:
    """user_guides/fsp.md: the teacher, then FSP as stage 1 (1 epoch each)."""
    if not (SHARED_DIR / 'data' / 'make_mnist_split.py').is_file():
        pytest.skip('needs the shared/ folder beside the repository')
    clone = _clone(tmp_path)
    subprocess.run([sys.executable,
                    str(SHARED_DIR / 'data' / 'make_mnist_split.py'),
                    str(clone / 'data' / 'mnist')], check=True,
                   capture_output=True, timeout=120)
    fsp = [shlex.split(c) for c in commands(doc_block('fsp-mnist'))]
    assert [c[2].rsplit('/', 1)[1] for c in fsp] == [
        'maxout-teacher_1xb128_mnist.py',
        'fsp_maxout-teacher-student_1xb128_mnist.py'
    ]
    small = ['train_dataloader.dataset.indices=512',
             'val_dataloader.dataset.indices=256',
             'test_dataloader.dataset.indices=256']
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    outputs = []
    for args, extra in zip(fsp, (['train_cfg.max_epochs=1'],
                                 ['train_cfg.hint_epochs=1',
                                  'train_cfg.kd_epochs=1'])):
        args = _swap(args, {'epoch_10.pth': 'epoch_1.pth'})
        if '--cfg-options' not in args:
            args.append('--cfg-options')
        assert args[0] == 'python'
        proc = subprocess.run([sys.executable] + args[1:] + extra + small,
                              env=env, cwd=clone, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=600)
        assert proc.returncode == 0, f'{args}:\n{proc.stdout[-3000:]}'
        outputs.append(proc.stdout)
    assert re.search(r'(FSP|FitNets\+FSP) stage 2 \((kd|task loss)\)',
                     outputs[1])
    assert re.search(r'fsp\.loss_fsp\w*: [\d.]+', outputs[1])



def _train_toy(config: Path, work_dir: Path, env: Dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1',
         'train_dataloader.dataset.indices=64',
         'val_dataloader.dataset.indices=64'],
        env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc.stdout


def test_compat_switches_turn_fixes_off(toy_kd_config: Path,
                                        tmp_path: Path) -> None:
    """compatibility.md: ``FITNETS_MM_COMPAT_OFF`` on a Python process and
    on ``tools/train.py`` (the toy MMRazor KD config, 1 epoch)."""
    no_hook, no_fixes = commands(doc_block('compat-off'))
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    env.pop('FITNETS_MM_COMPAT_OFF', None)

    def with_switch(command: str) -> Tuple[Dict[str, str], List[str]]:
        assignment, python, *rest = shlex.split(command)
        assert python == 'python'
        name, _, value = assignment.partition('=')
        assert name == 'FITNETS_MM_COMPAT_OFF'
        return dict(env, FITNETS_MM_COMPAT_OFF=value), rest

    probe = ('import sys; import mmrazor.models; '
             "print('startup hook:', 'fitnets_mm_startup' in sys.modules)")
    off_env, rest = with_switch(no_hook)
    assert rest == ['...']
    for run_env, expected in ((env, True), (off_env, False)):
        proc = subprocess.run([sys.executable, '-c', probe], env=run_env,
                              capture_output=True, text=True, timeout=300)
        if expected:
            assert proc.returncode == 0, proc.stderr[-2000:]
        assert f'startup hook: {expected}' in proc.stdout or (
            not expected and proc.returncode != 0), proc.stderr[-2000:]

    off_env, rest = with_switch(no_fixes)
    assert rest == ['tools/train.py', '...']
    fixes = off_env['FITNETS_MM_COMPAT_OFF'].split(',')
    on = _train_toy(toy_kd_config, tmp_path / 'on', env)
    off = _train_toy(toy_kd_config, tmp_path / 'off', off_env)
    acted = [f for f in fixes if f'fitnets_mm.compat.{f}' in on]
    assert acted, f'none of {fixes} logged in the control run'
    assert not [f for f in fixes if f'fitnets_mm.compat.{f}' in off]

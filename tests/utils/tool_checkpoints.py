"""Helpers of the tool tests: a small FitNets checkpoint, saved as mmengine
saves it, generated images, and running a tool in-process.

The student is the real one of ``configs/fitnet_cifar10.py`` (so its
exported weights must fit ``configs/fitnets/students/resnet50-thin_cifar10.py``
); the teacher is shrunk to a CIFAR ResNet-18 of width 8, which keeps the
checkpoint small. One stage-1 and one stage-2 SGD step (with momentum, so
the optimizer has state to drop) move every student weight and BN statistic
away from their initial values, so a checkpoint that was not loaded cannot
pass for one that was.
"""
import runpy
import sys
import time
from pathlib import Path
from typing import List, Sequence, Tuple

import mmengine
import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu
from mmpretrain.datasets import CIFAR10
from mmpretrain.structures import DataSample
from PIL import Image

from fitnets_mm.analysis import build_algorithm

REPO_ROOT = Path(__file__).resolve().parents[2]
FITNET_CIFAR10 = REPO_ROOT / 'configs' / 'fitnet_cifar10.py'
STUDENT_CONFIG = (REPO_ROOT / 'configs' / 'fitnets' / 'students' /
                  'resnet50-thin_cifar10.py')

# Stage 1's summed hint loss is large (~1e3 here): a larger step kills the
# regressor's ReLU, which would make the hint picture all zeros.
STEP_LR = dict(hint=1e-6, kd=1e-3)

TINY_TEACHER = '''
model = dict(
    teacher=dict(
        _delete_=True,
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR', depth=18, stem_channels=8,
            base_channels=8, num_stages=4, out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64)),
    teacher_ckpt=None)
'''


def write_tiny_config(folder: Path) -> Path:
    """``configs/fitnet_cifar10.py`` with the tiny teacher, in ``folder``."""
    path = folder / 'fitnet_cifar10_tiny_teacher.py'
    path.write_text(f'_base_ = [{str(FITNET_CIFAR10)!r}]\n{TINY_TEACHER}')
    return path


def _batch(n: int, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (3, 32, 32), generator=gen, dtype=torch.uint8)
        for _ in range(n)
    ]
    labels = torch.randint(0, 10, (n, ), generator=gen)
    return dict(
        inputs=inputs,
        data_samples=[DataSample().set_gt_label(int(y)) for y in labels])


def make_fitnets_checkpoint(config: Path, out: Path) -> torch.nn.Module:
    """Train the algorithm of ``config`` two steps and save it at ``out``.

    The file has what ``Runner.save_checkpoint`` writes: ``meta`` (with the
    config text and CIFAR-10's ``dataset_meta``), ``state_dict``,
    ``message_hub``, ``optimizer`` and ``param_schedulers``.

    Returns:
        nn.Module: The algorithm, in eval mode, with the saved weights.
    """
    torch.manual_seed(0)
    algorithm = build_algorithm(str(config))
    algorithm.train()
    optim = OptimWrapper(
        torch.optim.SGD(algorithm.parameters(), lr=1e-3, momentum=0.9))
    hub = MessageHub.get_instance('fitnets_tool_helpers')
    for i, stage in enumerate(('hint', 'kd')):
        algorithm.set_stage(stage)
        for group in optim.param_groups:
            group['lr'] = STEP_LR[stage]
        log_vars = algorithm.train_step(_batch(4, seed=i), optim)
        for key, value in log_vars.items():
            hub.update_scalar(f'train/{key}', float(value))
    algorithm.set_stage('hint')
    meta = dict(
        epoch=1,
        iter=2,
        cfg=Config.fromfile(str(config)).text,
        seed=0,
        experiment_name='tiny',
        time=time.strftime('%Y%m%d_%H%M%S'),
        mmengine_version=mmengine.__version__,
        dataset_meta=dict(classes=CIFAR10.METAINFO['classes']))
    checkpoint = dict(
        meta=meta,
        state_dict=weights_to_cpu(algorithm.state_dict()),
        message_hub=hub.state_dict(),
        optimizer=optim.state_dict(),
        param_schedulers=[])
    save_checkpoint(checkpoint, str(out))
    return algorithm.eval()


def write_images(folder: Path, n: int, seed: int = 0) -> List[Path]:
    """``n`` random 32 x 32 RGB PNGs in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        path = folder / f'img{i}.png'
        Image.fromarray(rng.integers(0, 256, (32, 32, 3),
                                     dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def tiny_checkpoint(folder: Path) -> Tuple[Path, Path, torch.nn.Module]:
    """The tiny config, its checkpoint and the algorithm, in ``folder``."""
    config = write_tiny_config(folder)
    checkpoint = folder / 'fitnets_tiny.pth'
    algorithm = make_fitnets_checkpoint(config, checkpoint)
    return config, checkpoint, algorithm


def run_tool(tool: str, args: Sequence[object], capsys) -> Tuple[int, str]:
    """Run ``tool`` (a path in the repository) as ``__main__`` in-process.

    Cheaper than a subprocess where the heavy imports are already done.

    Returns:
        tuple[int, str]: The exit code and what it printed to stdout.
    """
    argv = sys.argv
    sys.argv = [tool] + [str(a) for a in args]
    code = 0
    try:
        runpy.run_path(str(REPO_ROOT / tool), run_name='__main__')
    except SystemExit as exit_:
        code = exit_.code or 0
    finally:
        sys.argv = argv
    return code, capsys.readouterr().out

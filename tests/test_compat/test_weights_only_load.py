"""The README's way to read an mmengine checkpoint with plain ``torch.load``.

torch >= 2.6 loads weights-only by default and refuses what mmengine's
checkpoints hold besides tensors (the message hub's ``HistoryBuffer`` and
NumPy values): MMRazor's EMA tests fail on exactly this. ``import
fitnets_mm`` adds them to torch's allow-list (``add_safe_globals``); without
fitnets_mm the README shows ``torch.serialization.safe_globals
(ALLOWED_GLOBALS)``. These tests run both on a checkpoint written by
mmengine's Runner with ``EMAHook``.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset
from utils import toy_models

from fitnets_mm.fileio.safe_checkpoint import ALLOWED_GLOBALS


class _Linear(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor,
                mode: str = 'tensor') -> dict:
        out = self.fc(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=((out.squeeze(1) - torch.stack(labels))**2).mean())
        return out


class _Points(Dataset):

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=torch.tensor([float(i), 1.0]),
                    labels=torch.tensor(float(i)))


@pytest.fixture(scope='module')
def ema_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work_dir = tmp_path_factory.mktemp('ema')
    runner = Runner(
        model=_Linear(),
        work_dir=str(work_dir),
        train_dataloader=dict(dataset=_Points(), batch_size=2,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=[dict(type='EMAHook')],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmengine')
    runner.train()
    # A module-scoped runner outlives the suite's per-test reset: drop the
    # 'mmengine' default scope and the rest it leaves behind.
    toy_models.reset_runner_state()
    return work_dir / 'epoch_1.pth'


def test_plain_weights_only_load_reads_it(ema_checkpoint: Path) -> None:
    """With fitnets_mm imported, torch's allow-list holds mmengine's types:
    MMRazor's EMA tests' plain ``torch.load`` works."""
    checkpoint = torch.load(ema_checkpoint, weights_only=True)
    assert 'ema_state_dict' in checkpoint


def test_plain_weights_only_load_is_refused_with_the_fix_off(
        ema_checkpoint: Path) -> None:
    code = ('import fitnets_mm, sys, torch; '
            'torch.load(sys.argv[1], weights_only=True)')
    env = dict(os.environ, FITNETS_MM_COMPAT_OFF='safe_checkpoint',
               PYTHONWARNINGS='ignore')
    out = subprocess.run([sys.executable, '-c', code, str(ema_checkpoint)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0
    assert 'UnpicklingError' in out.stderr and 'HistoryBuffer' in out.stderr


def test_readme_safe_globals_load(ema_checkpoint: Path) -> None:
    # As in the README (Compatibility): the allow-list, scoped to one load.
    # Leaving the block removes ALLOWED_GLOBALS from torch's list, also the
    # process-wide entries ``import fitnets_mm`` made: put them back, or the
    # tests after this one see a process without them.
    try:
        with torch.serialization.safe_globals(ALLOWED_GLOBALS):
            checkpoint = torch.load(ema_checkpoint, weights_only=True)
    finally:
        torch.serialization.add_safe_globals(ALLOWED_GLOBALS)
    assert 'ema_state_dict' in checkpoint
    assert set(checkpoint['state_dict']) == {'fc.weight', 'fc.bias'}
    assert 'message_hub' in checkpoint

"""``fitnets_mm.fileio.safe_checkpoint``: safe, working checkpoint loading."""
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.utils import digit_version
from torch import nn
from torch.utils.data import Dataset

import fitnets_mm  # noqa: F401
from fitnets_mm.fileio import (CorruptCheckpointError, UnsafeCheckpointError,
                               safe_load)

TORCH_2_6 = digit_version(torch.__version__) >= digit_version('2.6.0')


class _ToyModel(BaseModel):
    """y = w x + b, trained with an L2 loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self,
                inputs: torch.Tensor,
                targets: torch.Tensor,
                mode: str = 'tensor') -> object:
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((out - targets)**2).mean())
        return out


class _ToyData(Dataset):

    def __len__(self) -> int:
        return 8

    def __getitem__(self, idx: int) -> Dict[str, torch.Tensor]:
        x = torch.tensor([float(idx), 1.0])
        return dict(inputs=x, targets=x[:1] * 2)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``epoch_1.pth`` written by a real mmengine Runner (with message hub)."""
    work_dir = tmp_path_factory.mktemp('runner')
    runner = Runner(
        model=_ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'safe_checkpoint_{work_dir.name}',
        train_dataloader=dict(
            dataset=_ToyData(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4,
            collate_fn=dict(type='default_collate'),
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        default_scope='mmengine')
    runner.train()
    return work_dir / 'epoch_1.pth'


class _WritesMarker:
    """Unpickling this creates a file: what a malicious checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Tuple[object, Tuple[str, str]]:
        return open, (str(self.marker), 'w')


def test_runner_checkpoint_loads_through_mmengine(
        runner_checkpoint: Path) -> None:
    ckpt = CheckpointLoader.load_checkpoint(
        str(runner_checkpoint), map_location='cpu')
    assert set(ckpt) >= {'meta', 'state_dict', 'optimizer', 'message_hub'}
    assert ckpt['meta']['epoch'] == 1
    model = _ToyModel()
    load_checkpoint(model, str(runner_checkpoint), map_location='cpu')
    torch.testing.assert_close(model.state_dict()['linear.weight'],
                               ckpt['state_dict']['linear.weight'])


def test_runner_resumes_from_checkpoint(runner_checkpoint: Path,
                                        tmp_path: Path) -> None:
    runner = Runner(
        model=_ToyModel(),
        work_dir=str(tmp_path),
        experiment_name=f'safe_checkpoint_resume_{tmp_path.name}',
        train_dataloader=dict(
            dataset=_ToyData(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4,
            collate_fn=dict(type='default_collate'),
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        default_scope='mmengine')
    runner.resume(str(runner_checkpoint))
    assert runner.epoch == 1
    assert runner.iter == 2


def _plain_torch_load(path: Path, off: str) -> subprocess.CompletedProcess:
    """``torch.load(path)`` in a fresh interpreter that imported fitnets_mm
    with ``FITNETS_MM_COMPAT_OFF=off``."""
    code = ('import fitnets_mm, sys, torch; '
            'print(sorted(torch.load(sys.argv[1], map_location="cpu")))')
    env = dict(os.environ, FITNETS_MM_COMPAT_OFF=off, PYTHONWARNINGS='ignore')
    return subprocess.run([sys.executable, '-c', code, str(path)], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(not TORCH_2_6,
                    reason='torch < 2.6 defaults to weights_only=False')
def test_plain_torch_load_reads_runner_checkpoint(
        runner_checkpoint: Path) -> None:
    """The allow-list is torch's own (``add_safe_globals``): a plain
    ``torch.load`` works in this process; with the fix off it is refused,
    as mmengine 0.10.7 alone is on torch >= 2.6."""
    safe_load(str(runner_checkpoint))  # its scoped allow-list ends here
    ckpt = torch.load(str(runner_checkpoint), map_location='cpu')
    assert {'message_hub', 'state_dict'} <= set(ckpt)
    off = _plain_torch_load(runner_checkpoint, 'safe_checkpoint')
    assert off.returncode != 0 and 'HistoryBuffer' in off.stderr
    on = _plain_torch_load(runner_checkpoint, '')
    assert on.returncode == 0, on.stderr[-2000:]
    assert "'message_hub'" in on.stdout


def test_allow_list_does_not_open_plain_torch_load(tmp_path: Path) -> None:
    """What the process-wide allow-list lets through is data only: a plain
    ``torch.load`` still refuses a file that runs code."""
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _WritesMarker(marker)}, str(evil))
    with pytest.raises(pickle.UnpicklingError):
        torch.load(str(evil), weights_only=True)
    assert not marker.exists()


@pytest.mark.parametrize('zip_format', [True, False],
                         ids=['zip', 'legacy-pickle'])
def test_code_running_checkpoint_is_refused(tmp_path: Path,
                                            zip_format: bool) -> None:
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _WritesMarker(marker)}, str(evil),
               _use_new_zipfile_serialization=zip_format)
    for load in (lambda: safe_load(str(evil)),
                 lambda: CheckpointLoader.load_checkpoint(str(evil)),
                 lambda: load_checkpoint(_ToyModel(), str(evil))):
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        assert str(evil) in str(info.value)
        assert 'open' in str(info.value)  # the offending type
        assert not marker.exists()


def test_truncated_checkpoint_is_corrupt(runner_checkpoint: Path,
                                         tmp_path: Path) -> None:
    truncated = tmp_path / 'truncated.pth'
    data = runner_checkpoint.read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match='truncated.pth'):
        CheckpointLoader.load_checkpoint(str(truncated))
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint at all')
    with pytest.raises(CorruptCheckpointError, match='garbage.pth'):
        safe_load(str(garbage))


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nope.pth'))


def test_http_checkpoint_loads(runner_checkpoint: Path,
                               http_server: Tuple[Path, str]) -> None:
    root, url = http_server
    (root / 'toy_epoch_1.pth').write_bytes(runner_checkpoint.read_bytes())
    ckpt = CheckpointLoader.load_checkpoint(
        f'{url}/toy_epoch_1.pth', map_location='cpu')
    assert ckpt['meta']['epoch'] == 1
    assert 'message_hub' in ckpt


def test_http_code_running_checkpoint_is_refused(
        tmp_path: Path, http_server: Tuple[Path, str]) -> None:
    root, url = http_server
    marker = tmp_path / 'pwned'
    torch.save({'x': _WritesMarker(marker)}, str(root / 'evil_http.pth'))
    with pytest.raises(UnsafeCheckpointError, match='evil_http.pth'):
        CheckpointLoader.load_checkpoint(f'{url}/evil_http.pth')
    assert not marker.exists()


def test_mmcls_zoo_name_loads_from_mapped_url(
        http_server: Tuple[Path, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root, url = http_server
    weights = {'backbone.conv1.weight': torch.ones(2, 1, 3, 3)}
    torch.save({'state_dict': weights}, str(root / 'toy_zoo.pth'))
    # mmcls://NAME is looked up in mmengine's model zoo table; point the
    # table's entry at the local server.
    monkeypatch.setattr(mmengine_checkpoint, 'get_mmcls_models',
                        lambda: {'toy_zoo': f'{url}/toy_zoo.pth'})
    ckpt = CheckpointLoader.load_checkpoint('mmcls://toy_zoo')
    # mmengine strips ``backbone.`` from mmcls checkpoints.
    torch.testing.assert_close(ckpt['state_dict']['conv1.weight'],
                               weights['backbone.conv1.weight'])

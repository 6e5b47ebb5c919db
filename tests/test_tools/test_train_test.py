"""``tools/train.py`` and ``tools/test.py`` on the toy MMRazor KD config."""
import json
from pathlib import Path
from typing import Callable, Tuple

import pytest
import torch

from fitnets_mm.fileio import safe_load

TRAIN_ITERS = 8  # 512 digits / batch 64


@pytest.fixture(scope='module')
def trained(toy_kd_config: Path, tmp_path_factory: pytest.TempPathFactory,
            run_cli: Callable) -> Tuple[Path, str]:
    """``tools/train.py`` on the toy config for 1 epoch: work dir, output."""
    work_dir = tmp_path_factory.mktemp('toy_kd_train')
    proc = run_cli(['python', 'tools/train.py', toy_kd_config,
                    '--work-dir', work_dir])
    return work_dir, proc.stdout


def test_train_writes_a_checkpoint(trained: Tuple[Path, str]) -> None:
    work_dir, output = trained
    assert f'Epoch(train) [1][{TRAIN_ITERS}/{TRAIN_ITERS}]' in output
    assert 'distill.loss_kd' in output  # MMRazor's distill loss ran
    assert 'teacher.accuracy/top1' in output  # distill val loop ran
    ckpt = safe_load(work_dir / 'epoch_1.pth', map_location='cpu')
    assert ckpt['meta']['epoch'] == 1
    assert any(k.startswith('architecture.') for k in ckpt['state_dict'])


def test_test_evaluates_the_checkpoint(trained: Tuple[Path, str],
                                       toy_kd_config: Path, tmp_path: Path,
                                       run_cli: Callable) -> None:
    work_dir, _ = trained
    metrics_file = tmp_path / 'metrics.json'
    proc = run_cli(['python', 'tools/test.py', toy_kd_config,
                    work_dir / 'epoch_1.pth', '--work-dir', tmp_path,
                    '--out', metrics_file, '--out-item', 'metrics'])
    assert 'Load checkpoint from' in proc.stdout
    assert 'Epoch(test)' in proc.stdout
    metrics = json.loads(metrics_file.read_text())
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0


def test_resume_auto_continues(trained: Tuple[Path, str],
                               toy_kd_config: Path,
                               run_cli: Callable) -> None:
    work_dir, _ = trained
    proc = run_cli(['python', 'tools/train.py', toy_kd_config,
                    '--work-dir', work_dir, '--resume',
                    '--cfg-options', 'train_cfg.max_epochs=2'])
    assert 'Auto resumed from the latest checkpoint' in proc.stdout
    assert f'resumed epoch: 1, iter: {TRAIN_ITERS}' in proc.stdout
    assert 'Epoch(train) [1]' not in proc.stdout
    assert f'Epoch(train) [2][{TRAIN_ITERS}/{TRAIN_ITERS}]' in proc.stdout
    assert (work_dir / 'epoch_2.pth').is_file()


def test_resume_refuses_code_running_checkpoint(toy_kd_config: Path,
                                                tmp_path: Path,
                                                run_cli: Callable) -> None:
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'

    class WritesMarker:

        def __reduce__(self) -> tuple:
            return open, (str(marker), 'w')

    torch.save({'state_dict': {}, 'x': WritesMarker()}, str(evil))
    proc = run_cli(['python', 'tools/train.py', toy_kd_config,
                    '--work-dir', tmp_path / 'work', '--resume', evil],
                   check=False)
    assert proc.returncode != 0
    assert 'UnsafeCheckpointError' in proc.stdout
    assert str(evil) in proc.stdout
    assert not marker.exists()


def test_num_workers_zero_from_cfg_options(tmp_path: Path) -> None:
    """``--cfg-options ...num_workers=0`` turns persistent workers off even
    when the config asks for them (PyTorch refuses them without workers)."""
    import argparse
    import runpy

    from mmengine.config import Config
    train = runpy.run_path(
        str(Path(__file__).resolve().parents[2] / 'tools' / 'train.py'))
    cfg = Config(dict(train_dataloader=dict(num_workers=2,
                                            persistent_workers=True)))
    args = argparse.Namespace(
        no_validate=False, launcher='none', work_dir=str(tmp_path),
        config='x.py', amp=False, resume=None, auto_scale_lr=False,
        no_pin_memory=False, no_persistent_workers=False,
        cfg_options={'train_dataloader.num_workers': 0})
    cfg = train['merge_args'](cfg, args)
    assert cfg.train_dataloader.num_workers == 0
    assert cfg.train_dataloader.persistent_workers is False

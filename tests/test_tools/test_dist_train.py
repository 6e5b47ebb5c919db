"""``tools/dist_train.sh`` and ``tools/dist_test.sh``: 2 processes on CPU."""
from pathlib import Path
from typing import Callable

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason='tests the CPU (gloo) path')

ITERS_PER_RANK = 4  # 512 digits / (2 ranks x batch 64)


def test_dist_train_then_dist_test_on_cpu(toy_kd_config: Path,
                                          tmp_path: Path, free_port: int,
                                          run_cli: Callable) -> None:
    # No dist_cfg option: the config asks for nccl, and fitnets_mm turns it
    # into gloo where there is no GPU.
    work_dir = tmp_path / 'work'
    stray = REPO_ROOT / '.dist_test'  # mmengine's default collect folder
    stray_before = stray.exists()
    proc = run_cli(
        ['bash', 'tools/dist_train.sh', toy_kd_config, '2',
         '--work-dir', work_dir],
        env={'PORT': str(free_port)},
        timeout=300)
    assert 'using the gloo backend' in proc.stdout
    assert 'Distributed training: True' in proc.stdout
    assert 'GPU number: 2' in proc.stdout  # mmengine's name for world size
    assert (f'Epoch(train) [1][{ITERS_PER_RANK}/{ITERS_PER_RANK}]'
            in proc.stdout)
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file()

    proc = run_cli(
        ['bash', 'tools/dist_test.sh', toy_kd_config, checkpoint, '2',
         '--work-dir', tmp_path / 'test',
         '--cfg-options', 'env_cfg.dist_cfg.backend=gloo'],
        env={'PORT': str(free_port)},
        timeout=300)
    assert 'Distributed training: True' in proc.stdout
    assert 'Epoch(test) [1/1]' in proc.stdout  # 256 digits / (2 x 128)
    assert 'accuracy/top1' in proc.stdout
    # Results were collected under the work dirs, not in the current folder.
    assert stray_before or not stray.exists()
    assert not (work_dir / '.dist_test').exists()  # removed after use

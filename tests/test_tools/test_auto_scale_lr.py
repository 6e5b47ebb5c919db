"""``tools/train.py --auto-scale-lr`` scales the learning rate linearly.

The toy config is written for a total batch of 64 at lr 0.1; trained at 32
per step with ``--auto-scale-lr`` it must run at lr 0.05, and without the
flag at 0.1.
"""
import re
from pathlib import Path
from typing import Callable

import pytest


@pytest.mark.parametrize('flag,lr', [(True, '5.0000e-02'),
                                     (False, '1.0000e-01')])
def test_auto_scale_lr(flag: bool, lr: str, toy_kd_config: Path,
                       tmp_path: Path, run_cli: Callable) -> None:
    args = ['python', 'tools/train.py', toy_kd_config, '--work-dir', tmp_path,
            '--no-validate', '--cfg-options', 'train_dataloader.batch_size=32']
    if flag:
        args.insert(5, '--auto-scale-lr')
    out = run_cli(args, timeout=300).stdout
    lrs = set(re.findall(r'Epoch\(train\) .*?lr: (\S+)', out))
    assert lrs == {lr}, out[-3000:]
    assert ('Scaling the original LR by 0.5' in out) is flag

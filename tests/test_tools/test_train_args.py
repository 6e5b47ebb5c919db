"""``tools/train.py``'s ``merge_args``: how command-line flags combine."""
import argparse
import runpy
from pathlib import Path
from typing import Any, Dict

import pytest
from mmengine.config import Config

TRAIN_PY = Path(__file__).resolve().parents[2] / 'tools' / 'train.py'


@pytest.fixture(scope='module')
def train() -> Dict[str, Any]:
    """The names defined by ``tools/train.py`` (not run as ``__main__``)."""
    return runpy.run_path(str(TRAIN_PY))


def _args(tmp_path: Path, **kwargs: Any) -> argparse.Namespace:
    args = dict(no_validate=False, launcher='none', work_dir=str(tmp_path),
                config='x.py', amp=False, resume=None, auto_scale_lr=False,
                no_pin_memory=False, no_persistent_workers=False,
                reset_lr=False, cfg_options=None)
    args.update(kwargs)
    return argparse.Namespace(**args)


def _cfg() -> Config:
    loader = dict(batch_size=4, num_workers=0, dataset=dict(type='X'))
    return Config(dict(train_dataloader=dict(loader),
                       val_dataloader=dict(loader),
                       val_cfg=dict(), val_evaluator=dict(type='Accuracy')))


def test_no_validate_with_val_dataloader_options(train: Dict[str, Any],
                                                 tmp_path: Path) -> None:
    """``--no-validate`` wins over ``--cfg-options val_dataloader.*``
    instead of failing on a merge into None."""
    args = _args(tmp_path, no_validate=True,
                 cfg_options={'val_dataloader.batch_size': 2,
                              'train_dataloader.batch_size': 3})
    cfg = train['merge_args'](_cfg(), args)
    assert cfg.val_dataloader is None
    assert cfg.val_cfg is None and cfg.val_evaluator is None
    assert cfg.train_dataloader.batch_size == 3

"""The MNIST test split is read without MMPretrain's false warning.

MMPretrain 1.2's MNIST picks its files by ``test_mode`` but, unless
``split='test'`` is given too, warns 'split="train" but test_mode=True. The
training set will be used.' while it reads the test files.
"""
from pathlib import Path

from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

import fitnets_mm  # noqa: F401
from mmpretrain.registry import DATASETS

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE = REPO_ROOT / 'configs' / '_base_' / 'datasets' / 'mnist_bs128.py'
WARNING = 'The training set will be used'


def test_mnist_test_split_reads_the_test_files_without_warning(
        mnist_root: Path, tmp_path: Path) -> None:
    cfg = Config.fromfile(str(BASE))
    log = tmp_path / 'log.txt'
    logger = MMLogger.get_instance(f'mnist_split_{tmp_path.name}',
                                   log_file=str(log))
    assert MMLogger.get_current_instance() is logger
    sizes = {}
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for name in ('train_dataloader', 'val_dataloader',
                     'test_dataloader'):
            dataset = dict(cfg[name].dataset, data_root=str(mnist_root))
            sizes[name] = len(DATASETS.build(dataset))
        # The check can fail: the same dataset without `split` warns.
        legacy = dict(cfg.val_dataloader.dataset, data_root=str(mnist_root))
        legacy.pop('split')
        DATASETS.build(legacy)
    for handler in logger.handlers:
        handler.flush()
    # shared/data/make_mnist_split.py: 8000 training and 2000 test digits.
    assert sizes == dict(train_dataloader=8000, val_dataloader=2000,
                         test_dataloader=2000)
    assert log.read_text().count(WARNING) == 1  # the legacy build only

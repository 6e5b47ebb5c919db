"""Every config builds and trains a couple of iterations on generated data.

Configs rot silently, so each leaf config under ``configs/`` is loaded, its
datasets are swapped for a small generated image folder (the downloads stay
as they are; see ``test_cifar_download.py``), its teacher checkpoint for
nothing (or a local file), and it runs one epoch of each stage through
mmengine's ``Runner``. The test asserts the stages ran (their loss names
appear in the log) and the checkpoints were written, ``hint_stage_last.pth``
for a two-stage run.
"""
import copy
import glob
import os.path as osp
import re
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
LEAF_CONFIGS = sorted(
    p for p in glob.glob(str(REPO / 'configs' / '**' / '*.py'),
                         recursive=True)
    if '_base_' not in p and f'{osp.sep}students{osp.sep}' not in p)


def _image_folder(root: Path, size: int, channels: int) -> Path:
    """Two classes of two random images each, in CustomDataset layout."""
    rng = np.random.default_rng(0)
    for label in ('a', 'b'):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(2):
            shape = (size, size, 3) if channels == 3 else (size, size)
            pixels = rng.integers(0, 255, shape, dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f'{i}.png')
    return root


def _with_loading(pipeline: List[Dict], channels: int) -> List[Dict]:
    """Prepend image loading to pipelines of array datasets (CIFAR, MNIST)."""
    pipeline = copy.deepcopy(list(pipeline))
    if not any(t['type'] == 'LoadImageFromFile' for t in pipeline):
        load = dict(type='LoadImageFromFile')
        if channels == 1:
            load['color_type'] = 'grayscale'
        pipeline.insert(0, load)
    return pipeline


def _small(cfg: Config, data_root: Path, channels: int) -> None:
    loaders = [cfg.get(f'{split}_dataloader')
               for split in ('train', 'val', 'test')]
    # hooks with their own data (HintValidationHook)
    loaders += [h.get('dataloader') for h in cfg.get('custom_hooks', [])]
    for loader in loaders:
        if not loader:
            continue
        dataset = loader.dataset
        while 'dataset' in dataset:  # a wrapper (e.g. ArrayBatchDataset)
            dataset = dataset.dataset
        loader.dataset = dict(
            type='CustomDataset',
            data_root=str(data_root),
            pipeline=_with_loading(dataset.pipeline, channels))
        loader.batch_size = 4
        loader.num_workers = 0
        loader.persistent_workers = False


def _channels(cfg: Config) -> int:
    shape = cfg.model.get('input_shape')
    if shape:
        return int(shape[0])
    mean = (cfg.model.get('data_preprocessor') or {}).get('mean', [0, 0, 0])
    return len(mean)


def _input_size(cfg: Config) -> int:
    shape = cfg.model.get('input_shape')
    if shape:
        return int(shape[-1])
    return 28 if _channels(cfg) == 1 else 32


@pytest.mark.parametrize(
    'config', LEAF_CONFIGS, ids=[osp.relpath(c, REPO) for c in LEAF_CONFIGS])
def test_config_trains(config: str, tmp_path: Path) -> None:
    from mmengine.runner import Runner

    cfg = Config.fromfile(config)
    channels = _channels(cfg)
    data_root = _image_folder(tmp_path / 'data', _input_size(cfg), channels)
    _small(cfg, data_root, channels)
    distill = 'teacher' in cfg.model
    if distill:
        cfg.model.teacher_ckpt = None
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    two_stage = 'FitNetsTrainLoop' in cfg.train_cfg.get('type', '')
    if two_stage:
        # KD-only configs (hint_epochs=0) keep no stage 1
        cfg.train_cfg.hint_epochs = 1 if cfg.train_cfg.hint_epochs else 0
        cfg.train_cfg.kd_epochs = 1
    else:
        cfg.train_cfg.max_epochs = 1
    # one optimizer, or one per stage (StageOptimWrapperConstructor)
    for wrapper in ([cfg.optim_wrapper] if 'optimizer' in cfg.optim_wrapper
                    else [cfg.optim_wrapper.hint, cfg.optim_wrapper.kd]):
        wrapper.optimizer.lr = 1e-3
    cfg.randomness = dict(seed=0)

    runner = Runner.from_cfg(cfg)
    runner.train()

    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    assert 'Exception' not in log
    if two_stage and cfg.model.get('hints'):
        assert re.search(r'hint\.loss_ht\S*: \d', log), log[-2000:]
    if two_stage and cfg.model.get('fsp_pairs'):
        assert re.search(r'fsp\.loss_fsp\S*: \d', log), log[-2000:]
    if distill:
        if cfg.model.distiller.get('distill_losses'):
            assert re.search(r'distill\.loss_\w+: \d', log), log[-2000:]
        else:  # stage 2 on the task loss alone (the FSP paper)
            assert not re.search(r'distill\.loss_\w+: \d', log)
        assert re.search(r'student\.loss: \d', log), log[-2000:]
    else:
        assert re.search(r' loss: \d', log), log[-2000:]
    epochs = 1 + cfg.train_cfg.hint_epochs if two_stage else 1
    assert (Path(cfg.work_dir) / f'epoch_{epochs}.pth').is_file()
    # every run with a stage 1 keeps its end (HintStageHook)
    assert (Path(cfg.work_dir) / 'hint_stage_last.pth').is_file() == \
        bool(two_stage and cfg.train_cfg.hint_epochs)
    metrics = runner.val_loop.run() if runner.val_loop else {}
    assert 'accuracy/top1' in metrics

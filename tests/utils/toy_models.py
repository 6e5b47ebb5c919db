"""Tiny FitNets models, data and runners shared by the tests.

A thin ResNet-18 (CIFAR stem, 4 base channels) learns from a wider one (8
base channels) on 16 x 16 inputs: the stages give maps of 16, 8, 4 and 2
pixels, and one forward takes milliseconds on a CPU.

Test files import it as ``from utils import toy_models as tm`` (``tests/`` is
on ``sys.path`` through the ``pythonpath`` setting of ``setup.cfg``).
"""
import contextlib
import copy
import itertools
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.visualization import Visualizer
from mmpretrain.structures import DataSample
from torch.utils.data import Dataset

import fitnets_mm  # noqa: F401  (registers the FitNets modules)
from utils import configs

INPUT_SHAPE = (3, 16, 16)
NUM_CLASSES = 10
KD_WEIGHT = 4.0
KD_TAU = 3.0

_names = itertools.count()


def classifier_cfg(width: int, num_classes: int = NUM_CLASSES) -> Dict:
    """An mmpretrain ResNet-18 (CIFAR stem) with ``width`` base channels."""
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR',
            depth=18,
            stem_channels=width,
            base_channels=width,
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=8 * width,
            loss=dict(type='CrossEntropyLoss')),
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            mean=[127.5] * 3,
            std=[127.5] * 3,
            num_classes=num_classes))


def kd_distiller_cfg(loss_weight: float = KD_WEIGHT,
                     tau: float = KD_TAU) -> Dict:
    """The paper's stage-2 loss ``lambda * H(P_T^tau, P_S^tau)`` on the
    logits (``head.fc``), as ``configs/_base_/models/fitnets_logits_kd.py``
    writes it."""
    return configs.kd_distiller_cfg(tau=tau, loss_weight=loss_weight)


def fitnets_cfg(hints: Optional[Sequence[Dict]] = None,
                student_width: int = 4,
                teacher_width: int = 8,
                teacher_classes: int = NUM_CLASSES,
                **kwargs: Any) -> Dict:
    """A FitNetsDistill config; by default one hint pair on ``layer2``."""
    if hints is None:
        hints = [dict(student='backbone.layer2', teacher='backbone.layer2')]
    cfg = dict(
        type='FitNetsDistill',
        architecture=classifier_cfg(student_width),
        teacher=classifier_cfg(teacher_width, teacher_classes),
        input_shape=INPUT_SHAPE,
        hints=list(hints),
        distiller=kd_distiller_cfg())
    cfg.update(kwargs)
    return cfg


def batch(n: int = 4, seed: int = 0) -> Dict[str, Any]:
    """A batch as a dataloader with ``pseudo_collate`` yields it."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[
            torch.randint(0, 256, INPUT_SHAPE, generator=g,
                          dtype=torch.uint8) for _ in range(n)
        ],
        data_samples=[
            DataSample().set_gt_label(i % NUM_CLASSES) for i in range(n)
        ])


class RandomImages(Dataset):
    """``n`` fixed random uint8 images (3 x 16 x 16) with integer labels."""

    metainfo: Dict = dict(classes=[str(i) for i in range(NUM_CLASSES)])

    def __init__(self, n: int = 8, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.images = torch.randint(
            0, 256, (n, ) + INPUT_SHAPE, generator=g, dtype=torch.uint8)
        self.labels = torch.randint(0, NUM_CLASSES, (n, ), generator=g)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        return dict(
            inputs=self.images[idx].clone(),
            data_samples=DataSample().set_gt_label(int(self.labels[idx])))


def dataloader_cfg(n: int = 8, batch_size: int = 4,
                   shuffle: bool = False) -> Dict:
    return dict(
        dataset=RandomImages(n),
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        batch_size=batch_size,
        num_workers=0,
        collate_fn=dict(type='pseudo_collate'))


class RecordHook(Hook):
    """Record, at every training iteration, what the tests check."""

    priority = 'LOWEST'  # after the hooks that set lr and lambda

    def __init__(self) -> None:
        self.iters: List[Dict[str, Any]] = []
        self.epochs: List[Dict[str, Any]] = []

    @staticmethod
    def _algorithm(runner: Runner) -> Any:
        return runner.model

    def before_train_epoch(self, runner: Runner) -> None:
        model = self._algorithm(runner)
        self.epochs.append(
            dict(
                epoch=runner.epoch,
                stage=model.stage,
                lr=runner.optim_wrapper.get_lr()['lr'][0],
                optim_state=copy.deepcopy(
                    runner.optim_wrapper.optimizer.state_dict())))

    def before_train_iter(self,
                          runner: Runner,
                          batch_idx: int,
                          data_batch: Any = None) -> None:
        model = self._algorithm(runner)
        self.iters.append(
            dict(
                iter=runner.iter,
                epoch=runner.epoch,
                stage=model.stage,
                lr=runner.optim_wrapper.get_lr()['lr'][0],
                loss_weight=model.distiller.distill_losses['loss_kd']
                .loss_weight))


def runner_cfg(work_dir: str,
               hint_epochs: int = 2,
               kd_epochs: int = 2,
               model: Optional[Dict] = None,
               lr: float = 0.01,
               custom_hooks: Optional[List] = None,
               **kwargs: Any) -> Dict:
    """Keyword arguments of a :class:`Runner` training FitNets on
    :class:`RandomImages` (8 images, batches of 4: 2 iterations an epoch)."""
    cfg = dict(
        model=model or fitnets_cfg(),
        work_dir=work_dir,
        experiment_name=f'fitnets_test_{os.getpid()}_{next(_names)}',
        train_dataloader=dataloader_cfg(),
        train_cfg=dict(
            type='FitNetsTrainLoop',
            hint_epochs=hint_epochs,
            kd_epochs=kd_epochs),
        optim_wrapper=dict(
            optimizer=dict(
                type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=None),
        custom_hooks=custom_hooks or [],
        default_scope='mmrazor',
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='INFO')
    cfg.update(kwargs)
    return cfg


def build_runner(**kwargs: Any) -> Runner:
    return Runner(**runner_cfg(**kwargs))


def read_log(runner: Runner) -> str:
    """The text of the runner's log file."""
    path = os.path.join(runner.log_dir, f'{runner.timestamp}.log')
    with open(path) as f:
        return f.read()


def reset_runner_state() -> None:
    """Drop the global instances runners leave behind (loggers with open log
    files, message hubs, visualizers, the default scope), as
    ``mmengine.testing.RunnerTestCase.tearDown`` does, so that later tests
    start clean."""
    for logger in list(MMLogger._instance_dict.values()):
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)
    MMLogger._instance_dict.clear()
    Visualizer._instance_dict.clear()
    DefaultScope._instance_dict.clear()
    MessageHub._instance_dict.clear()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread, then restore the thread count.

    The models are tiny: a second thread buys nothing, and on a busy machine
    OpenMP threads waiting for each other make each step 10-50x slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def layer2_maps(classifier: Any, x: torch.Tensor) -> tuple:
    """The outputs of ``backbone.layer2.0`` and ``backbone.layer2`` of a
    toy ResNet classifier, computed by hand (for FSP pairs)."""
    b = classifier.backbone
    out = b.layer1(b.relu(b.norm1(b.conv1(x))))
    first = b.layer2[0](out)
    return first, b.layer2[1](first)

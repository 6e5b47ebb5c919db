"""Shared pieces of the reliability tests: a tiny FitNets job and its data.

The job distils a ResNet-18 (CIFAR stem) of width 8 into one of width 4 on
8 x 8 RGB images made from a fixed seed: no download, no random
augmentation, ``num_workers=0``, deterministic. One epoch takes well under a
second on a CPU core, so whole runs (several processes, kills and resumes)
fit in a test.

This module is also imported by the training processes that the tests start
(``custom_imports=['fitnets_mm', 'utils.reliability']`` with ``tests/`` on
``PYTHONPATH``), so it registers its dataset and hooks on import.
"""
import contextlib
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence

import fitnets_mm  # noqa: F401  (compat fixes and registration first)
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS, OPTIM_WRAPPERS
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from utils import configs

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(TESTS)
TRAIN_PY = osp.join(REPO, 'tools', 'train.py')
DIST_TRAIN_SH = osp.join(REPO, 'tools', 'dist_train.sh')
IMG_SIZE = 8
NUM_CLASSES = 10


# --------------------------------------------------------------- data
@DATASETS.register_module(force=True)
class ToyClsDataset(BaseDataset):
    """``num_samples`` random ``img_size`` x ``img_size`` RGB images with
    random labels, the same for a given ``seed``."""

    def __init__(self,
                 num_samples: int = 32,
                 img_size: int = IMG_SIZE,
                 num_classes: int = NUM_CLASSES,
                 seed: int = 0,
                 **kwargs: Any) -> None:
        self.num_samples = num_samples
        self.img_size = img_size
        self.num_classes_ = num_classes
        self.seed = seed
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        rng = np.random.default_rng(self.seed)
        imgs = rng.integers(
            0, 256, (self.num_samples, self.img_size, self.img_size, 3),
            dtype=np.uint8)
        labels = rng.integers(0, self.num_classes_, self.num_samples)
        return [dict(img=imgs[i], gt_label=int(labels[i]))
                for i in range(self.num_samples)]


# --------------------------------------------------------------- hooks
def _algorithm(runner: Any) -> Any:
    return runner.model.module if is_model_wrapper(runner.model) else \
        runner.model


@HOOKS.register_module(force=True)
class ThrottleHook(Hook):
    """Sleep after every training iteration, so that a test can kill a
    process at a chosen point. It changes no state."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds

    def after_train_iter(self, runner: Any, batch_idx: int,
                         data_batch: Any = None, outputs: Any = None) -> None:
        time.sleep(self.seconds)


_WRITES: List[str] = []
_AUDIT_ROOT: List[str] = []


def _audit_writes(event: str, args: tuple) -> None:
    """Record paths under ``_AUDIT_ROOT`` that this process writes."""
    if not _AUDIT_ROOT:
        return
    if event == 'open':
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in 'wax+')) \
            or (mode is None and isinstance(flags, int) and
                flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
    elif event == 'os.rename':  # also raised by os.replace
        path, writing = args[1], True
    else:
        return
    if writing and isinstance(path, str) and \
            osp.abspath(path).startswith(_AUDIT_ROOT[0]):
        _WRITES.append(osp.relpath(osp.abspath(path), _AUDIT_ROOT[0]))


@HOOKS.register_module(force=True)
class RecordRankHook(Hook):
    """Write what each rank did to ``work_dir``.

    * ``pid_rank{r}`` (before training);
    * ``rank{r}.json``: the stage of every iteration, the iterations at which
      a checkpoint save began on this rank (``before_save_checkpoint``), and
      the files under ``work_dir`` this process wrote from ``before_run`` on
      (through an audit hook; only in subprocess runs, ``audit=True``);
    * ``rank{r}.pth``: ``student`` and ``teacher`` state dicts and the
      ``student_params`` (parameters only) after training.

    These records are written by every rank on purpose; they have no
    checkpoint shape (no ``message_hub``) and are left out of the audit.

    Args:
        audit (bool): Record written files. Audit hooks cannot be removed,
            so only for processes that end with the run. Defaults to False.
    """

    def __init__(self, audit: bool = False) -> None:
        self.audit = audit
        self._stages: List[List] = []
        self._saves: List[int] = []

    def before_run(self, runner: Any) -> None:
        if self.audit and not _AUDIT_ROOT:
            _AUDIT_ROOT.append(osp.abspath(runner.work_dir))
            sys.addaudithook(_audit_writes)

    def before_train(self, runner: Any) -> None:
        with open(osp.join(runner.work_dir, f'pid_rank{get_rank()}'),
                  'w') as f:
            f.write(str(os.getpid()))

    def before_train_iter(self, runner: Any, batch_idx: int,
                          data_batch: Any = None) -> None:
        self._stages.append([runner.iter, _algorithm(runner).stage])

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        self._saves.append(runner.iter)

    def after_train(self, runner: Any) -> None:
        rank = get_rank()
        algorithm = _algorithm(runner)
        own = {f'pid_rank{rank}', f'rank{rank}.json', f'rank{rank}.pth'}
        writes = sorted({w for w in _WRITES if w not in own})
        _AUDIT_ROOT.clear()
        with open(osp.join(runner.work_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(stages=self._stages, saves=self._saves,
                           writes=writes), f)
        def cpu(items: Any) -> Dict[str, torch.Tensor]:
            return {k: v.detach().cpu().clone() for k, v in items}

        torch.save(
            dict(student=cpu(algorithm.student.state_dict().items()),
                 student_params=cpu(algorithm.student.named_parameters()),
                 teacher=cpu(algorithm.teacher.state_dict().items())),
            osp.join(runner.work_dir, f'rank{rank}.pth'))


@OPTIM_WRAPPERS.register_module(force=True)
class CPUAutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose forward runs under CPU autocast (bfloat16).

    mmengine's ``AmpOptimWrapper`` needs CUDA/NPU/MLU; this is mixed
    precision as it happens on a CPU.
    """

    @contextlib.contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield


# --------------------------------------------------------------- models
def classifier(width: int, num_classes: int = NUM_CLASSES) -> dict:
    """A ResNet-18 (CIFAR stem) classifier with ``width`` stem channels."""
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            num_classes=num_classes,
            mean=[127.5, 127.5, 127.5],
            std=[64.0, 64.0, 64.0],
            to_rgb=False),
        backbone=dict(
            type='ResNet_CIFAR',
            depth=18,
            stem_channels=width,
            base_channels=width,
            num_stages=4,
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=width * 8,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


STUDENT_WIDTH = 4
TEACHER_WIDTH = 8


def make_teacher_ckpt(path: str, width: int = TEACHER_WIDTH,
                      num_classes: int = NUM_CLASSES, seed: int = 1) -> str:
    """Save a teacher checkpoint with random weights and BN statistics.

    Returns:
        str: ``path``.
    """
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(classifier(width, num_classes))
    model.init_weights()
    generator = torch.Generator().manual_seed(seed)
    state = model.state_dict()
    for key, value in state.items():
        # Non-trivial BN statistics, so a BN that updates them is noticed.
        if key.endswith('running_mean'):
            value.copy_(torch.randn(value.shape, generator=generator) * 0.1)
        elif key.endswith('running_var'):
            value.copy_(1 + torch.rand(value.shape, generator=generator))
    torch.save(dict(meta=dict(note='test teacher'), state_dict=state), path)
    return path


def fitnets_cfg(work_dir: str,
                teacher_ckpt: Optional[str],
                hint_epochs: int = 1,
                kd_epochs: int = 1,
                num_samples: int = 32,
                batch_size: int = 8,
                hints: Optional[Sequence[dict]] = None,
                throttle: float = 0.0,
                record: bool = False,
                audit: bool = False,
                **overrides: Any) -> Config:
    """The tiny FitNets job as an mmengine ``Config``.

    Args:
        work_dir (str): The work directory.
        teacher_ckpt (str, optional): The teacher checkpoint.
        hint_epochs (int): Stage-1 epochs. Defaults to 1.
        kd_epochs (int): Stage-2 epochs. Defaults to 1.
        num_samples (int): Training images. Defaults to 32.
        batch_size (int): Per-process batch. Defaults to 8.
        hints (Sequence[dict], optional): Hint pairs. Defaults to
            layer2 -> layer2.
        throttle (float): Seconds to sleep per iteration. Defaults to 0.
        record (bool): Add :class:`RecordRankHook`. Defaults to False.
        audit (bool): Its ``audit``. Defaults to False.
        **overrides: ``merge_from_dict`` options (dotted keys allowed).

    Returns:
        Config: The config.
    """
    if hints is None:
        hints = [dict(student='backbone.layer2', teacher='backbone.layer2')]
    custom_hooks = [
        dict(type='mmrazor.LossWeightScheduleHook', loss_names='loss_kd',
             start=4.0, end=1.0),
        dict(type='mmrazor.FiniteWeightsGuardHook'),
        dict(type='mmrazor.BroadcastBuffersHook'),
    ]
    if throttle:
        custom_hooks.append(dict(type='ThrottleHook', seconds=throttle))
    if record:
        custom_hooks.append(dict(type='RecordRankHook', audit=audit))
    cfg = dict(
        default_scope='mmpretrain',
        custom_imports=dict(
            imports=['fitnets_mm', 'utils.reliability'],
            allow_failed_imports=False),
        work_dir=work_dir,
        model=dict(
            _scope_='mmrazor',
            type='FitNetsDistill',
            architecture=classifier(STUDENT_WIDTH),
            teacher=classifier(TEACHER_WIDTH),
            teacher_ckpt=teacher_ckpt,
            input_shape=(3, IMG_SIZE, IMG_SIZE),
            hints=list(hints),
            distiller=configs.kd_distiller_cfg()),
        train_dataloader=dict(
            batch_size=batch_size,
            num_workers=0,
            persistent_workers=False,
            dataset=dict(type='ToyClsDataset', num_samples=num_samples,
                         pipeline=[dict(type='PackInputs')]),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(type='mmrazor.FitNetsTrainLoop',
                       hint_epochs=hint_epochs, kd_epochs=kd_epochs),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                           weight_decay=5e-4)),
        param_scheduler=[
            dict(type='ConstantLR', factor=0.1, by_epoch=True, stage='hint'),
            dict(type='MultiStepLR', by_epoch=True, milestones=[1],
                 gamma=0.5, stage='kd'),
        ],
        custom_hooks=custom_hooks,
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(type='CheckpointHook', interval=1,
                            max_keep_ckpts=3),
            sampler_seed=dict(type='DistSamplerSeedHook'),
        ),
        env_cfg=dict(cudnn_benchmark=False,
                     mp_cfg=dict(mp_start_method='fork',
                                 opencv_num_threads=0),
                     dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0, deterministic=True),
        find_unused_parameters=True,
        log_level='INFO',
        load_from=None,
        resume=False,
    )
    config = Config(cfg)
    if overrides:
        config.merge_from_dict(overrides)
    return config


def dump_cfg(cfg: Config, path: str) -> str:
    """Write ``cfg`` as a Python config file; returns ``path``."""
    cfg.dump(path)
    return path


def logged_two_stage_config(folder: str,
                            teacher_ckpt: Optional[str]) -> str:
    """Write the tiny FitNets job as the tool tests run it: 2 hint and 2 KD
    epochs of 8 iterations, logged every 3 through ``StageLogProcessor``,
    validated each epoch; 16 test images. Returns the config file
    (``folder/tiny.py``, work dir ``folder/work``)."""
    cfg = fitnets_cfg(osp.join(folder, 'work'), teacher_ckpt, hint_epochs=2,
                      kd_epochs=2, num_samples=32, batch_size=4)
    cfg.default_hooks.logger.interval = 3
    cfg.log_processor = dict(type='StageLogProcessor')
    loader = dict(cfg.train_dataloader,
                  sampler=dict(type='DefaultSampler', shuffle=False))
    cfg.val_dataloader = loader
    cfg.test_dataloader = dict(loader, dataset=dict(
        loader['dataset'], num_samples=16))
    cfg.val_evaluator = cfg.test_evaluator = dict(type='Accuracy')
    cfg.val_cfg = cfg.test_cfg = dict()
    cfg.train_cfg.val_interval = 1
    return dump_cfg(cfg, osp.join(folder, 'tiny.py'))


def run_tools_test(cfg: Config, checkpoint: str, folder: str) -> None:
    """Run ``tools/test.py`` in this process on ``cfg`` (given a test split:
    its training data in order) and ``checkpoint``; files go to
    ``folder`` (``cfg.py``, work dir ``test``)."""
    import runpy
    cfg = cfg.copy()
    cfg.test_dataloader = dict(cfg.train_dataloader, sampler=dict(
        type='DefaultSampler', shuffle=False))
    cfg.test_cfg = dict()
    cfg.test_evaluator = dict(type='Accuracy')
    config = dump_cfg(cfg, osp.join(folder, 'cfg.py'))
    argv = sys.argv
    # --debug: the error itself, not the tool's one-line report of it.
    sys.argv = ['tools/test.py', config, str(checkpoint), '--work-dir',
                osp.join(folder, 'test'), '--debug']
    try:
        runpy.run_path(osp.join(REPO, 'tools', 'test.py'),
                       run_name='__main__')
    finally:
        sys.argv = argv


# --------------------------------------------------------------- processes
def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def subprocess_env(**extra: str) -> Dict[str, str]:
    """The environment of training processes: this interpreter, ``tests/``
    importable, one thread each (same numerics in every process, no
    oversubscription)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (TESTS, REPO, env.get('PYTHONPATH', '')) if p)
    # ``python`` in tools/dist_train.sh is this interpreter.
    env['PATH'] = os.pathsep.join(
        (osp.dirname(sys.executable), env.get('PATH', '')))
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore')
    env.update(extra)
    return env


def start_train(config: str, work_dir: str, *args: str,
                log_name: str = 'train') -> subprocess.Popen:
    """Start ``tools/train.py config --work-dir work_dir *args``; its output
    goes to ``work_dir/../{log_name}.out``."""
    os.makedirs(work_dir, exist_ok=True)
    out = open(osp.join(osp.dirname(work_dir), f'{log_name}.out'), 'ab')
    return subprocess.Popen(
        [sys.executable, TRAIN_PY, config, '--work-dir', work_dir, *args],
        cwd=REPO, env=subprocess_env(), stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True)


def start_dist_train(config: str, work_dir: str, nproc: int = 2,
                     *args: str, log_name: str = 'dist') -> subprocess.Popen:
    """Start ``bash tools/dist_train.sh config nproc`` on a free port."""
    os.makedirs(work_dir, exist_ok=True)
    out = open(osp.join(osp.dirname(work_dir), f'{log_name}.out'), 'ab')
    return subprocess.Popen(
        ['bash', DIST_TRAIN_SH, config, str(nproc), '--work-dir', work_dir,
         *args],
        cwd=REPO, env=subprocess_env(PORT=str(free_port())), stdout=out,
        stderr=subprocess.STDOUT, start_new_session=True)


def output_of(work_dir: str, log_name: str) -> str:
    """What a process started by :func:`start_train` printed."""
    path = osp.join(osp.dirname(work_dir), f'{log_name}.out')
    if not osp.exists(path):
        return ''
    with open(path, errors='replace') as f:
        return f.read()


def log_text(work_dir: str) -> str:
    """All mmengine log files (``work_dir/*/*.log``) concatenated."""
    text = []
    for root, _, files in os.walk(work_dir):
        for name in sorted(files):
            if name.endswith('.log'):
                with open(osp.join(root, name), errors='replace') as f:
                    text.append(f.read())
    return '\n'.join(text)


def wait_for(predicate: Any, timeout: float, proc: Optional[Any] = None,
             interval: float = 0.02, what: str = 'condition') -> None:
    """Poll ``predicate`` until true; fail on timeout or if ``proc`` ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f'process ended (rc {proc.returncode}) before {what}')
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout}s waiting for {what}')


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` and everything in its session, then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def checkpoint_state(path: str) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of a checkpoint file."""
    from fitnets_mm.fileio import safe_load
    return safe_load(path, map_location='cpu')['state_dict']


def _bits(tensor: torch.Tensor) -> torch.Tensor:
    """The bytes of ``tensor`` (so that -0.0 != 0.0 and NaN == NaN)."""
    return tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)


def assert_bitwise_equal(a: Dict[str, torch.Tensor],
                         b: Dict[str, torch.Tensor], what: str) -> None:
    """Same keys, and every tensor equal bit for bit."""
    assert sorted(a) == sorted(b), f'{what}: keys differ'
    different = [k for k in a if not (a[k].dtype == b[k].dtype and
                                      a[k].shape == b[k].shape and
                                      torch.equal(_bits(a[k]), _bits(b[k])))]
    assert not different, f'{what}: {len(different)} tensors differ, e.g. ' \
        f'{different[:5]}'

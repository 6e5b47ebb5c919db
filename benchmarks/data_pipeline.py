"""Images/s that the configs' data pipelines deliver, against the model's need.

Loaders are built from the configs with mmengine's
``Runner.build_dataloader`` (the code path of ``tools/train.py``) on fake
data in the real on-disk formats, written to a temporary folder
(``benchmarks/fake_data.py``):

* CIFAR-10 (``cifar-10-batches-py`` pickles, as MMPretrain and torchvision
  read them), the main config ``configs/fitnet_cifar10.py``:

  * ``pseudo_collate``: the config's transforms with the collate mmengine
    uses when a config names none (a list of 128 tensors per batch);
  * ``config``: the config as it is (``default_collate``, one stacked uint8
    tensor per batch);
  * ``batch-aug``: ``fitnets_..._cifar10_batch-aug.py``: workers only
    gather the uint8 images, a batch at a time (``ArrayBatchDataset``); crop
    and flip are done per batch by the data preprocessor;
  * ``... + packed_collate``: the same with ``collate_fn=dict(type=
    'packed_collate')``: a worker ships the batch's labels and metainfo as
    arrays instead of one ``DataSample`` with its own label tensor per
    image (each tensor a shared-memory segment of its own).

  "delivered" is the loader plus the model's data preprocessor in training
  mode, i.e. batches as the model's forward receives them.
* ImageNet-style (JPEG decode + ``RandomResizedCrop(224)`` + flip, the
  pipeline of ``configs/_base_/datasets/imagenet_bs32.py``) on 500 x 375
  JPEGs in class folders (``CustomDataset``): images/s per worker, and the
  workers one GPU needs.

The model's side: measured training-step rate of the CIFAR-10 main pair on
this machine (``FitNetsDistill.train_step``, both stages), and the rate a GPU
would ask for, from the multiplications counted in the model
(``count_mult``; a training step ~ 3 forward passes of the student plus one
of the teacher, 2 FLOP per multiply-accumulate) at an assumed sustained 20
and 50 TFLOP/s. Those GPU rates are estimates, not measurements.

    python benchmarks/data_pipeline.py              # full run
    python benchmarks/data_pipeline.py --quick      # smoke test
"""
import argparse
import copy
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_data import (use_cifar10_checksums, write_fake_cifar10,  # noqa
                       write_fake_jpegs)

MAIN = os.path.join(REPO, 'configs', 'fitnet_cifar10.py')
BATCH_AUG = os.path.join(
    REPO, 'configs', 'fitnets',
    'fitnets_resnet34-resnet50-thin_1xb128_cifar10_batch-aug.py')
IMAGENET = os.path.join(REPO, 'configs', 'fitnets',
                        'fitnets_resnet50-resnet18_8xb32_in1k.py')
# (row name, config, collate_fn that replaces the config's; None keeps it)
CIFAR_VARIANTS = (
    ('pseudo_collate', MAIN, 'pseudo_collate'),
    ('config', MAIN, None),
    ('config + packed_collate', MAIN, 'packed_collate'),
    ('batch-aug', BATCH_AUG, None),
    ('batch-aug + packed_collate', BATCH_AUG, 'packed_collate'),
)
TFLOPS = (20.0, 50.0)  # assumed sustained GPU throughput, FLOP/s * 1e-12


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='tiny settings for a smoke test')
    parser.add_argument('--workers', default=None,
                        help='comma-separated worker counts (default '
                        '0,1,2; quick 0,1)')
    parser.add_argument('--batches', type=int, default=None,
                        help='timed batches per CIFAR loader (default 60, '
                        'quick 2)')
    parser.add_argument('--rounds', type=int, default=None,
                        help='interleaved rounds per loader (default 3, '
                        'quick 1)')
    parser.add_argument('--jpegs', type=int, default=None,
                        help='fake JPEGs (default 384, quick 8)')
    parser.add_argument('--step-batch', type=int, default=None,
                        help='batch of the measured model steps (default '
                        '32, quick 2)')
    parser.add_argument('--out', default=None,
                        help='markdown file to write (default '
                        'benchmarks/results/data_pipeline.md; quick: none)')
    args = parser.parse_args()
    q = args.quick
    args.workers = [int(w) for w in (args.workers or
                                     ('0,1' if q else '0,1,2')).split(',')]
    args.batches = args.batches or (2 if q else 60)
    args.rounds = args.rounds or (1 if q else 3)
    args.jpegs = args.jpegs or (8 if q else 384)
    args.step_batch = args.step_batch or (2 if q else 32)
    args.cifar_per_batch = 512 if q else 10000
    if args.out is None and not q:
        args.out = os.path.join(REPO, 'benchmarks', 'results',
                                'data_pipeline.md')
    return args


# ------------------------------------------------------------------ loaders
def _config(path: str):
    import fitnets_mm  # noqa: F401  (registers our modules)
    from mmengine.config import Config
    return Config.fromfile(path)


def cifar_variants(root: str, batch: int) -> Dict[str, tuple]:
    """(loader cfg, data preprocessor cfg) of each CIFAR-10 variant."""
    out = {}
    for name, path, collate in CIFAR_VARIANTS:
        cfg = _config(path)
        loader = copy.deepcopy(cfg.train_dataloader.to_dict())
        dataset = loader['dataset']
        while 'dataset' in dataset:  # a wrapper: set the inner root
            dataset = dataset['dataset']
        dataset['data_root'] = root
        loader['batch_size'] = batch
        if collate:
            loader['collate_fn'] = dict(type=collate)
        pre = copy.deepcopy(cfg.model.architecture.data_preprocessor)
        out[name] = (loader, pre.to_dict() if hasattr(pre, 'to_dict')
                     else dict(pre))
    return out


def build_loader(loader_cfg: dict, workers: int):
    from mmengine.runner import Runner
    cfg = copy.deepcopy(loader_cfg)
    cfg['num_workers'] = workers
    cfg['persistent_workers'] = workers > 0
    return Runner.build_dataloader(cfg, seed=0)


def build_preprocessor(cfg: dict):
    from mmpretrain.registry import MODELS
    return MODELS.build(copy.deepcopy(cfg))


class Stream:
    """An endless iterator over a loader, optionally through the model's
    data preprocessor (training mode)."""

    def __init__(self, loader, preprocessor=None) -> None:
        self.loader, self.pre = loader, preprocessor
        self.it = iter(loader)

    def next(self) -> int:
        try:
            batch = next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            batch = next(self.it)
        if self.pre is not None:
            batch = self.pre(batch, True)
        return len(batch['data_samples'])


def time_streams(streams: Dict[str, Stream], batches: int, rounds: int,
                 warmup: int = 3) -> Dict[str, List[float]]:
    """Images/s of each stream over ``batches`` batches, in interleaved
    rounds (A B C, C B A, ...) so that load from other processes falls on
    all of them alike."""
    for s in streams.values():
        for _ in range(warmup):
            s.next()
    rates: Dict[str, List[float]] = {k: [] for k in streams}
    for r in range(rounds):
        order = list(streams)[::(-1 if r % 2 else 1)]
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            n = sum(streams[name].next() for _ in range(batches))
            rates[name].append(n / (time.perf_counter() - t0))
            CPU_US[name].append((time.process_time() - c0) / n * 1e6)
    return rates


# CPU time of this process per image, by stream: with 0 workers, the whole
# pipeline's cost, which other processes' load does not inflate
CPU_US: Dict[str, List[float]] = defaultdict(list)


def dtype_of_batches(loader_cfg: dict) -> str:
    batch = next(iter(build_loader(loader_cfg, 0)))
    x = batch['inputs']
    return str((x if isinstance(x, torch.Tensor) else x[0]).dtype)


# -------------------------------------------------------------------- model
def gpu_demand(model, input_shape: Sequence[int],
               truncate: Optional[Dict[str, str]] = None) -> Dict[str, float]:
    """GFLOP per training image of stage 2 and stage 1, and the images/s
    that a GPU sustaining each of ``TFLOPS`` would take."""
    from fitnets_mm.models.utils.complexity import count_mult

    s_full = count_mult(model.student, input_shape)
    t_full = count_mult(model.teacher, input_shape)
    out = {'stage2': (3 * s_full + t_full) * 2 / 1e9}
    if truncate:
        s_cut = count_mult(model.student, input_shape,
                           until=truncate['student'])
        t_cut = count_mult(model.teacher, input_shape,
                           until=truncate['teacher'])
        reg = count_mult(model.regressors[0], _guided_shape(model, input_shape,
                                                            truncate))
        out['stage1'] = (3 * (s_cut + reg) + t_cut) * 2 / 1e9
    return out


def _guided_shape(model, input_shape, truncate) -> tuple:
    from fitnets_mm.models.utils import FeatureRecorder
    x = torch.zeros((1, ) + tuple(input_shape))
    was = model.student.training
    model.student.eval()
    with torch.no_grad():
        feats = FeatureRecorder(model.student, [truncate['student']],
                                stop=True).run(lambda: model.student(x))
    model.student.train(was)
    return tuple(feats[truncate['student']].shape[1:])


def build_model(config: str, teacher_ckpt: bool = False):
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    cfg = _config(config)
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    if not teacher_ckpt:
        model_cfg['teacher_ckpt'] = None
    init_default_scope('mmrazor')
    model = MODELS.build(model_cfg)
    init_default_scope('mmpretrain')
    return model


def model_step_rates(model, batch: int, steps: int) -> Dict[str, float]:
    """Training images/s of ``FitNetsDistill.train_step`` in each stage on
    this machine (random uint8 batch, SGD through an mmengine
    ``OptimWrapper``)."""
    from mmengine.optim import OptimWrapper
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=torch.randint(0, 256, (batch, 3, 32, 32), generator=gen,
                             dtype=torch.uint8),
        data_samples=[DataSample().set_gt_label(i % 10)
                      for i in range(batch)])
    params = list(model.student.parameters()) + list(
        model.regressors.parameters())
    wrapper = OptimWrapper(torch.optim.SGD(params, lr=1e-3, momentum=0.9))
    model.train()
    rates = {}
    for stage in ('kd', 'hint'):
        model.set_stage(stage)
        model.train_step(data, wrapper)  # warm-up
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            model.train_step(data, wrapper)
            times.append(time.perf_counter() - t0)
        rates['stage2' if stage == 'kd' else 'stage1'] = \
            batch / statistics.median(times)
    return rates


# ------------------------------------------------------------------ ImageNet
def imagenet_loader_cfg(train_dir: str, batch: int) -> dict:
    cfg = _config(IMAGENET)
    loader = copy.deepcopy(cfg.train_dataloader.to_dict())
    dataset = loader['dataset']
    loader['dataset'] = dict(type='CustomDataset', data_root=train_dir,
                             pipeline=dataset['pipeline'])
    loader['batch_size'] = batch
    return loader


# ------------------------------------------------------------------- report
def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except Exception as err:  # pragma: no cover
        return repr(err)


def fmt(rates: List[float]) -> str:
    return f'{statistics.median(rates):,.0f}'


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    t_start = time.time()
    load_start = sh('cat /proc/loadavg')
    lines: List[str] = []
    tmp = tempfile.TemporaryDirectory(prefix='fitnets_data_')
    root = os.path.join(tmp.name, 'cifar10')
    use_cifar10_checksums(write_fake_cifar10(root, args.cifar_per_batch))
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')

    # ---- CIFAR-10 loaders, interleaved per worker count
    variants = cifar_variants(root, 128)
    dtypes = {k: dtype_of_batches(v[0]) for k, v in variants.items()}
    table: Dict[tuple, List[float]] = {}
    cpu: Dict[tuple, float] = {}
    for workers in args.workers:
        streams: Dict[str, Stream] = {}
        for name, (loader_cfg, pre_cfg) in variants.items():
            loader = build_loader(loader_cfg, workers)
            streams[f'{name}|loader'] = Stream(loader)
            streams[f'{name}|delivered'] = Stream(
                build_loader(loader_cfg, workers),
                build_preprocessor(pre_cfg))
        CPU_US.clear()
        rates = time_streams(streams, args.batches, args.rounds)
        for key, value in rates.items():
            name, what = key.split('|')
            table[name, what, workers] = value
            if workers == 0:
                cpu[name, what] = statistics.median(CPU_US[key])
        del streams
    lines += [
        '### CIFAR-10 loaders (batch 128; images/s, median of '
        f'{args.rounds} interleaved rounds of {args.batches} batches)',
        '',
        '| pipeline | batch dtype | workers | loader | delivered '
        '(loader + data preprocessor) | delivered vs pseudo_collate |',
        '|---|---|---:|---:|---:|---:|',
    ]
    for workers in args.workers:
        base = statistics.median(table['pseudo_collate', 'delivered',
                                       workers])
        for name in variants:
            lo = table[name, 'loader', workers]
            de = table[name, 'delivered', workers]
            lines.append(
                f'| {name} | {dtypes[name]} | {workers} | {fmt(lo)} '
                f'| {fmt(de)} | {statistics.median(de) / base:.2f} x |')

    if 0 in args.workers:
        lines += [
            '',
            'CPU time per image with 0 workers (one process does everything; '
            "other jobs' load inflates it far less than wall time), and the "
            'images/s that 2 free cores would give at that cost (a bound: '
            'perfect scaling over workers):',
            '',
            '| pipeline | loader: CPU us / image | delivered: CPU us / '
            'image | loader on 2 free cores (bound) | delivered on 2 free '
            'cores (bound) |',
            '|---|---:|---:|---:|---:|',
        ]
        for name in variants:
            lo, de = cpu[name, 'loader'], cpu[name, 'delivered']
            lines.append(f'| {name} | {lo:.1f} | {de:.1f} '
                         f'| {2e6 / lo:,.0f} | {2e6 / de:,.0f} |')

    # ---- the model's side
    model = build_model(MAIN)
    demand = gpu_demand(model, (3, 32, 32),
                        dict(student=model.hint_pairs[0]['student'],
                             teacher=model.hint_pairs[0]['teacher']))
    cpu = model_step_rates(model, args.step_batch, 1 if args.quick else 3)
    best = {name: max(statistics.median(table[name, 'delivered', w])
                      for w in args.workers) for name in variants}
    lines += [
        '',
        '### Against the model (CIFAR-10 main pair)',
        '',
        '| stage | GFLOP per training image (counted) | measured here '
        f'(CPU, batch {args.step_batch}), images/s | a GPU at '
        f'{TFLOPS[0]:.0f} / {TFLOPS[1]:.0f} TFLOP/s would take (estimate) '
        '| best delivered: ' + ' / '.join(variants) + ' |',
        '|---|---:|---:|---:|---:|',
    ]
    for stage in ('stage2', 'stage1'):
        need = [t * 1e3 / demand[stage] for t in TFLOPS]
        lines.append(
            f'| {stage} | {demand[stage]:.2f} | {cpu[stage]:.1f} '
            f'| {need[0]:,.0f} / {need[1]:,.0f} '
            '| ' + ' / '.join(f'{best[v]:,.0f}' for v in variants) + ' |')
    del model

    # ---- ImageNet-style
    train_dir = str(write_fake_jpegs(os.path.join(tmp.name, 'imagenet'),
                                     args.jpegs))
    in_cfg = imagenet_loader_cfg(train_dir, 32)
    in_workers = [w for w in args.workers if w > 0] or [1]
    in_rates: Dict[int, List[float]] = {}
    for workers in in_workers:
        stream = Stream(build_loader(in_cfg, workers))
        in_rates[workers] = time_streams(
            {'x': stream}, max(1, args.jpegs // 32 - 2), args.rounds,
            warmup=1)['x']
        del stream
    in_model = build_model(IMAGENET)
    in_demand = gpu_demand(
        in_model, (3, 224, 224),
        dict(student=in_model.hint_pairs[0]['student'],
             teacher=in_model.hint_pairs[0]['teacher']))
    del in_model
    per_worker = statistics.median(in_rates[in_workers[0]]) / in_workers[0]
    lines += [
        '',
        '### ImageNet-style pipeline (decode 500 x 375 JPEG, '
        'RandomResizedCrop 224, flip; batch 32)',
        '',
        '| workers | images/s | images/s per worker |',
        '|---:|---:|---:|',
    ]
    for workers in in_workers:
        med = statistics.median(in_rates[workers])
        lines.append(f'| {workers} | {med:,.0f} | {med / workers:,.0f} |')
    lines += [
        '',
        '| stage (ResNet-50 -> ResNet-18) | GFLOP per training image '
        '(counted) | GPU images/s at ' + ' / '.join(
            f'{t:.0f}' for t in TFLOPS) + ' TFLOP/s (estimate) '
        '| workers per GPU at the measured images/s per worker |',
        '|---|---:|---:|---:|',
    ]
    for stage in ('stage2', 'stage1'):
        need = [t * 1e3 / in_demand[stage] for t in TFLOPS]
        workers_needed = [math.ceil(n / per_worker) for n in need]
        lines.append(
            f'| {stage} | {in_demand[stage]:.2f} | '
            + ' / '.join(f'{n:,.0f}' for n in need) + ' | '
            + ' / '.join(str(w) for w in workers_needed) + ' |')
    tmp.cleanup()

    text = '\n'.join(lines)
    print(text)
    wall = time.time() - t_start
    load_end = sh('cat /proc/loadavg')
    print(f'\nwall time {wall:.0f} s; load average at start {load_start}, '
          f'at end {load_end}')
    if args.out:
        cmd = 'python benchmarks/data_pipeline.py ' + ' '.join(sys.argv[1:])
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write('# Data pipeline throughput\n\n')
            f.write(f'Command: `{cmd}` (wall time {wall:.0f} s). No GPU on '
                    'this machine: GPU rates are estimates from counted '
                    'FLOPs at an assumed sustained throughput, not '
                    'measurements.\n\n')
            f.write(text + '\n\n')
            f.write(f'Load average at start: {load_start}; at end: '
                    f'{load_end}\n\n')
            f.write('Machine:\n\n```\n' + '\n'.join([
                f'nproc: {sh("nproc")}', sh('lscpu | head -n 15'),
                f'torch {torch.__version__}, python '
                f'{platform.python_version()}'
            ]) + '\n```\n')


if __name__ == '__main__':
    main()

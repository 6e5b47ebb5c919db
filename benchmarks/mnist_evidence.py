"""FitNets' MNIST claim on real digits (paper Table 4 and Figure 2).

Trains the paper's MNIST maxout teacher once (checkpoint cached in ``--out``),
then the same thin deep student (30K parameters), from the same initial
weights and the same data order per seed, three ways:

* ``backprop``: the student alone, ``ImageClassifier.train_step``;
* ``KD``: ``FitNetsDistill`` with no hints, ``H(y, P_S) + lambda *
  H(P_T^tau, P_S^tau)``, tau = 3, lambda 4 -> 1 linearly over the training
  (``LossWeightScheduleHook.value_at``);
* ``FitNets``: ``FitNetsDistill`` stage ``'hint'`` (teacher layer 2 -> student
  layer 4, the paper's pair) for ``--hint-epochs``, then stage ``'kd'`` as
  KD, all through ``FitNetsDistill.train_step`` with an mmengine
  ``OptimWrapper``.

Then a depth study in the spirit of Figure 2: thin maxout students (no
normalisation) of 3..11 conv layers at a roughly fixed number of
multiplications, each trained the three ways (hint at the student's middle
layer), plotted as test accuracy against depth.

The teacher is frozen and nothing is augmented, so its outputs for a training
image never change: the script computes the teacher's layer-2 output (the
hint) for all training images once, and the frozen teacher inside
``FitNetsDistill`` reads it from that cache instead of recomputing its first
two layers (its third layer and head still run live). Before training it
checks the cached path against the live teacher on several batches and
prints the largest difference.

Data: ``python /work/shared/data/make_mnist_split.py DIR`` (8,000 training,
2,000 test digits); the script makes it in ``--data`` when missing.

    python benchmarks/mnist_evidence.py                  # full study
    python benchmarks/mnist_evidence.py --quick          # smoke test
"""
import argparse
import copy
import math
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKE_SPLIT = os.path.join(os.path.dirname(REPO), 'shared', 'data',
                          'make_mnist_split.py')
MEAN, STD = 33.46, 78.87
REGIMES = ('backprop', 'KD', 'FitNets')
PAPER = {'teacher': 0.55, 'backprop': 1.9, 'KD': 0.65, 'FitNets': 0.51}
TAU = 3.0

# Filled in the parent before the workers fork (copy-on-write).
DATA: Dict[str, torch.Tensor] = {}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='1 seed, a fraction of an epoch, 2 depths')
    parser.add_argument('--seeds', type=int, default=None,
                        help='student seeds (default 5, quick 1)')
    parser.add_argument('--epochs', type=float, default=None,
                        help='backprop / KD / FitNets-stage-2 epochs '
                        '(default 5, quick 0.05)')
    parser.add_argument('--hint-epochs', type=float, default=None,
                        help='FitNets stage-1 epochs (default 1, quick 0.02)')
    parser.add_argument('--teacher-epochs', type=float, default=None,
                        help='teacher epochs (default 2, quick 0.05)')
    parser.add_argument('--depths', default=None,
                        help='conv depths of the depth study '
                        '(default 3,5,7,9,11; quick 3,5; "" to skip)')
    parser.add_argument('--depth-epochs', type=float, default=None,
                        help='epochs in the depth study (default 3, quick '
                        '0.05); its hint stage is a third of this')
    parser.add_argument('--lr', type=float, default=1e-3,
                        help='Adam learning rate of all students and the '
                        'teacher')
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--workers', type=int, default=2,
                        help='parallel runs, one torch thread each')
    parser.add_argument('--data', default='/tmp/fitnets_mnist',
                        help='MNIST split directory (made if missing)')
    parser.add_argument('--out', default=None,
                        help='working directory (teacher checkpoint); '
                        'default benchmarks/results/mnist_work')
    parser.add_argument('--results', default=None,
                        help='directory of the .md/.png outputs (default '
                        'benchmarks/results; quick: --out)')
    args = parser.parse_args()
    q = args.quick
    pick = lambda v, full, quick: v if v is not None else (quick if q else full)  # noqa: E731,E501
    args.seeds = pick(args.seeds, 5, 1)
    args.epochs = pick(args.epochs, 5.0, 0.05)
    args.hint_epochs = pick(args.hint_epochs, 1.0, 0.02)
    args.teacher_epochs = pick(args.teacher_epochs, 2.0, 0.05)
    args.depth_epochs = pick(args.depth_epochs, 3.0, 0.05)
    depths = pick(args.depths, '3,5,7,9,11', '3,5')
    args.depths = [int(d) for d in depths.split(',') if d.strip()]
    args.out = args.out or (os.path.join(REPO, 'benchmarks', 'results',
                                         'mnist_work') if not q else
                            '/tmp/fitnets_mnist_quick')
    args.results = args.results or (os.path.join(REPO, 'benchmarks',
                                                 'results') if not q else
                                    args.out)
    return args


# ---------------------------------------------------------------- data
def load_data(root: str) -> None:
    """Pre-load the split as normalised tensors into ``DATA``."""
    from mmpretrain.datasets import MNIST
    if not os.path.exists(os.path.join(root, 'train-images-idx3-ubyte')):
        subprocess.run([sys.executable, MAKE_SPLIT, root], check=True)
    for key, split in (('train', 'train'), ('test', 'test')):
        # mmpretrain 1.2 picks the files by ``test_mode``; ``split`` must
        # agree with it to avoid a warning.
        ds = MNIST(data_root=root, split=split, test_mode=split == 'test',
                   pipeline=[])
        imgs = np.stack([ds.get_data_info(i)['img'] for i in range(len(ds))])
        labels = [int(ds.get_data_info(i)['gt_label']) for i in range(len(ds))]
        DATA[key + '_x'] = (torch.from_numpy(imgs).float().unsqueeze(1) -
                            MEAN) / STD
        DATA[key + '_y'] = torch.tensor(labels)


def _samples(labels: torch.Tensor) -> list:
    from mmpretrain.structures import DataSample
    return [DataSample().set_gt_label(int(y)) for y in labels]


# --------------------------------------------------------------- models
def classifier(backbone: dict, in_channels: int) -> dict:
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=backbone,
        neck=None,
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=in_channels,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


TEACHER = classifier(dict(type='FitNetMNIST', arch='teacher'), 216)
PAPER_STUDENT = classifier(dict(type='FitNetMNIST', arch='student'), 108)
TEACHER_HINT = 'backbone.layers.1'  # 48 x 4 x 4
PAPER_GUIDED = 'backbone.layers.3'  # 16 x 4 x 4


def _stages_for(depth: int, width: int) -> List[dict]:
    """``depth`` 3x3 maxout conv layers in 3 pooled stages (2/2 pooling)."""
    per = [depth // 3 + (1 if i < depth % 3 else 0) for i in range(3)]
    return [
        dict(channels=[width] * n, kernel_size=3, padding=1, pool_size=2,
             pool_stride=2) for n in per
    ]


def depth_student(depth: int, budget: int) -> Tuple[dict, int, int]:
    """A thin student of ``depth`` conv layers whose width is the largest
    keeping its multiplications within ``budget``; returns (cfg, width,
    multiplications)."""
    from mmpretrain.registry import MODELS
    from fitnets_mm.models.utils.complexity import count_mult

    def spec(width: int) -> Tuple[dict, int]:
        backbone = dict(type='MaxoutConvNet', stages=_stages_for(
            depth, width), in_channels=1, input_size=28, num_pieces=2,
                        flatten_output=True)
        cfg = classifier(backbone, width * 4 * 4)
        return cfg, count_mult(MODELS.build(cfg), (1, 28, 28))

    low, high = 2, 128  # mult(low) <= budget < mult(high)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if spec(mid)[1] <= budget else (low, mid)
    cfg, mult = spec(low)
    return cfg, low, mult


def build(cfg: dict) -> nn.Module:
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    import fitnets_mm  # noqa: F401
    init_default_scope('mmpretrain')
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    return model


class _CacheState:
    """Indices of the current batch into the cached teacher outputs."""
    index: Optional[torch.Tensor] = None
    cache: Optional[torch.Tensor] = None


class _SkipWhenCached(nn.Module):
    """The teacher's layer 1: skipped while the cache serves the batch."""

    def __init__(self, layer: nn.Module, state: _CacheState) -> None:
        super().__init__()
        self.layer, self.state = layer, state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.state.index is not None else self.layer(x)


class _CachedLayer(nn.Module):
    """The teacher's hint layer: its cached output for the batch."""

    def __init__(self, layer: nn.Module, state: _CacheState) -> None:
        super().__init__()
        self.layer, self.state = layer, state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.state.index is None:
            return self.layer(x)
        return self.state.cache[self.state.index]


def cached_teacher(teacher: nn.Module) -> Tuple[nn.Module, _CacheState]:
    """Give ``teacher`` a cache of its hint-layer output on the train set."""
    state = _CacheState()
    layers = teacher.backbone.layers
    if 'hint_cache' not in DATA:  # once, in the parent; workers inherit it
        with torch.no_grad():
            teacher.eval()
            feats = []
            for i in range(0, len(DATA['train_x']), 500):
                x = DATA['train_x'][i:i + 500]
                feats.append(layers[1](layers[0](x)))
            DATA['hint_cache'] = torch.cat(feats)
    state.cache = DATA['hint_cache']
    layers[0] = _SkipWhenCached(layers[0], state)
    layers[1] = _CachedLayer(layers[1], state)
    return teacher, state


def verify_cache(teacher: nn.Module, state: _CacheState,
                 batch: int) -> float:
    """Largest |cached - live| over logits and hints of a few batches."""
    worst = 0.0
    gen = torch.Generator().manual_seed(123)
    with torch.no_grad():
        for _ in range(4):
            idx = torch.randperm(len(DATA['train_x']), generator=gen)[:batch]
            x = DATA['train_x'][idx]
            state.index = None
            live = teacher(x, mode='tensor')
            live_hint = teacher.backbone.layers[1](
                teacher.backbone.layers[0](x))
            state.index = idx
            cached = teacher(x, mode='tensor')
            worst = max(worst, float((live - cached).abs().max()),
                        float((live_hint - state.cache[idx]).abs().max()))
    state.index = None
    return worst


# ------------------------------------------------------------- training
def evaluate(model: nn.Module) -> float:
    """Test error (%) of a classifier."""
    model.eval()
    with torch.no_grad():
        wrong = 0
        for i in range(0, len(DATA['test_x']), 1000):
            logits = model(DATA['test_x'][i:i + 1000], mode='tensor')
            wrong += int((logits.argmax(1) != DATA['test_y'][i:i +
                                                             1000]).sum())
    model.train()
    return 100.0 * wrong / len(DATA['test_x'])


def _iterations(epochs: float, batch: int) -> int:
    return max(1, int(round(epochs * math.ceil(len(DATA['train_x']) /
                                               batch))))


def _batches(num: int, batch: int, seed: int):
    """``num`` shuffled batches of indices, epoch after epoch."""
    gen = torch.Generator().manual_seed(seed)
    n = len(DATA['train_x'])
    done = 0
    while done < num:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            if done == num:
                return
            yield perm[i:i + batch]
            done += 1


def train_teacher(path: str, epochs: float, lr: float, batch: int) -> dict:
    """Train the teacher (or load it from ``path``); return its state."""
    if os.path.exists(path):
        saved = torch.load(path, map_location='cpu')
        return saved
    torch.manual_seed(0)
    model = build(TEACHER)
    from mmengine.optim import OptimWrapper
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=lr))
    samples = _samples(DATA['train_y'])
    t0 = time.time()
    model.train()
    for idx in _batches(_iterations(epochs, batch), batch, seed=0):
        data = dict(inputs=DATA['train_x'][idx],
                    data_samples=[samples[i] for i in idx])
        model.train_step(data, wrapper)
    saved = dict(state_dict=model.state_dict(), error=evaluate(model),
                 wall=time.time() - t0, epochs=epochs,
                 params=sum(p.numel() for p in model.parameters()))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(saved, path)
    return saved


def run_one(job: dict) -> dict:
    """Train one student in one regime; return its test error and time."""
    from mmengine.optim import OptimWrapper
    from mmrazor.registry import MODELS as RAZOR
    from fitnets_mm.engine.hooks import LossWeightScheduleHook
    torch.set_num_threads(1)
    regime, seed, batch, lr = job['regime'], job['seed'], job['batch'], \
        job['lr']
    torch.manual_seed(seed)  # same initial student in every regime
    student = build(job['student'])
    params = sum(p.numel() for p in student.parameters())
    teacher = build(TEACHER)
    teacher.load_state_dict(job['teacher_state'])
    teacher, state = cached_teacher(teacher)
    samples = _samples(DATA['train_y'])
    t0 = time.time()
    if regime == 'backprop':
        model, stages = student, [('kd', job['epochs'])]
    else:
        hints = [] if regime == 'KD' else [
            dict(student=job['guided'], teacher=TEACHER_HINT,
                 loss=dict(type='HintLoss'))
        ]
        torch.manual_seed(seed + 1000)  # regressor init
        model = RAZOR.build(
            dict(
                _scope_='mmrazor',
                type='FitNetsDistill',
                architecture=student,
                teacher=teacher,
                input_shape=(1, 28, 28),
                hints=hints,
                data_preprocessor=None,
                distiller=dict(
                    type='ConfigurableDistiller',
                    student_recorders=dict(
                        logits=dict(type='ModuleOutputs', source='head.fc')),
                    teacher_recorders=dict(
                        logits=dict(type='ModuleOutputs', source='head.fc')),
                    distill_losses=dict(
                        loss_kd=dict(
                            type='KDSoftCELoss',
                            tau=TAU,
                            mult_tem_square=False,
                            loss_weight=4.0)),
                    loss_forward_mappings=dict(
                        loss_kd=dict(
                            preds_S=dict(
                                from_student=True, recorder='logits'),
                            preds_T=dict(
                                from_student=False, recorder='logits'))))))
        stages = ([('hint', job['hint_epochs'])] if hints else []) + [
            ('kd', job['epochs'])
        ]
    model.train()
    last_loss = float('nan')
    for stage, epochs in stages:
        num = _iterations(epochs, batch)
        if regime == 'backprop':
            trainable = model.parameters()
        else:
            model.set_stage(stage)
            trainable = list(model.student.parameters()) + (
                list(model.regressors.parameters()) if stage == 'hint' else
                [])
        # A fresh optimiser per stage, as a new stage of Algorithm 1.
        wrapper = OptimWrapper(torch.optim.Adam(trainable, lr=lr))
        schedule = LossWeightScheduleHook(start=4.0, end=1.0)
        schedule._span = (0, num)  # lambda 4 -> 1 over this stage
        kd_loss = None if regime == 'backprop' or stage == 'hint' else \
            model.distiller.distill_losses['loss_kd']
        for it, idx in enumerate(_batches(num, batch, seed=seed)):
            if kd_loss is not None:
                kd_loss.loss_weight = schedule.value_at(it)
            state.index = idx
            data = dict(inputs=DATA['train_x'][idx],
                        data_samples=[samples[i] for i in idx])
            log_vars = model.train_step(data, wrapper)
            last_loss = float(log_vars['loss'].detach())
        state.index = None
    wall = time.time() - t0
    error = evaluate(student)
    return dict(job, teacher_state=None, student=None, error=error,
                wall=wall, params=params, last_loss=last_loss,
                lambda_end=None if kd_loss is None else kd_loss.loss_weight)


# -------------------------------------------------------------- reports
def mean_ci(values: Sequence[float]) -> Tuple[float, float, float]:
    """Mean, std and the half-width of a 95 % t confidence interval."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return mean, float('nan'), float('nan')
    std = statistics.stdev(values)
    t = {2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78, 6: 2.57, 7: 2.45, 8: 2.36,
         9: 2.31, 10: 2.26}.get(n, 1.96)
    return mean, std, t * std / math.sqrt(n)


def main_table(results: List[dict], teacher: dict) -> str:
    lines = [
        '| regime | test error % (mean ± std) | 95 % CI | seeds | params '
        '| wall s / run (mean) | paper Table 4 |',
        '|---|---:|---:|---:|---:|---:|---:|',
        f'| teacher (maxout 48-48-24) | {teacher["error"]:.2f} | - | 1 '
        f'| {teacher["params"]:,} | {teacher["wall"]:.0f} '
        f'| {PAPER["teacher"]:.2f} |',
    ]
    for regime in REGIMES:
        rows = [r for r in results if r['regime'] == regime]
        errs = [r['error'] for r in rows]
        mean, std, ci = mean_ci(errs)
        wall = statistics.fmean(r['wall'] for r in rows)
        spread, interval = (f'{mean:.2f} ± {std:.2f}',
                            f'[{mean - ci:.2f}, {mean + ci:.2f}]') \
            if len(rows) > 1 else (f'{mean:.2f} (1 seed)', '-')
        lines.append(
            f'| {regime} | {spread} | {interval} | {len(rows)} '
            f'| {rows[0]["params"]:,} | {wall:.0f} | {PAPER[regime]:.2f} |')
    per_seed = ['', '| seed | ' + ' | '.join(REGIMES) + ' |',
                '|---:|' + '---:|' * len(REGIMES)]
    for seed in sorted({r['seed'] for r in results}):
        cells = [
            f'{next(r["error"] for r in results if r["seed"] == seed and r["regime"] == reg):.2f}'  # noqa: E501
            for reg in REGIMES
        ]
        per_seed.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines + per_seed)


def depth_table(results: List[dict], specs: Dict[int, tuple]) -> str:
    lines = [
        '| conv layers | width | params | mult | guided layer | '
        + ' | '.join(f'{r} acc %' for r in REGIMES) + ' |',
        '|---:|---:|---:|---:|---|' + '---:|' * len(REGIMES),
    ]
    for depth in sorted(specs):
        cfg, width, mult = specs[depth]
        rows = {r['regime']: r for r in results if r['depth'] == depth}
        lines.append(
            f'| {depth} | {width} | {rows["backprop"]["params"]:,} '
            f'| {mult / 1e6:.2f}M | layers.{depth // 2} | '
            + ' | '.join(f'{100 - rows[r]["error"]:.2f}' for r in REGIMES)
            + ' |')
    return '\n'.join(lines)


def plot_depth(results: List[dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for regime, marker in zip(REGIMES, 'osD'):
        rows = sorted((r for r in results if r['regime'] == regime),
                      key=lambda r: r['depth'])
        ax.plot([r['depth'] for r in rows], [100 - r['error'] for r in rows],
                marker=marker, label=regime)
    ax.set_xlabel('conv layers (thin maxout student, ~fixed mult.)')
    ax.set_ylabel('test accuracy (%)')
    ax.set_title('MNIST (8k train / 2k test): accuracy vs depth')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine_info() -> str:
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True).stdout.strip()

    return '\n'.join([
        f'nproc: {sh("nproc")}',
        sh('lscpu | head -n 15'),
        f'torch {torch.__version__}, python {platform.python_version()}',
        f'load average at end: {sh("cat /proc/loadavg")}',
    ])


def run_jobs(jobs: List[dict], workers: int) -> List[dict]:
    if workers <= 1:
        return [run_one(j) for j in jobs]
    with mp.get_context('fork').Pool(workers) as pool:
        return pool.map(run_one, jobs, chunksize=1)


def main() -> None:
    args = parse_args()
    t_start = time.time()
    load_start = open('/proc/loadavg').read().strip()
    torch.set_num_threads(1)
    load_data(args.data)
    print(f'data: {len(DATA["train_x"])} train / {len(DATA["test_x"])} test',
          flush=True)
    teacher = train_teacher(
        os.path.join(args.out, 'teacher_mnist.pth'), args.teacher_epochs,
        args.lr, args.batch)
    print(f'teacher: {teacher["error"]:.2f} % test error, '
          f'{teacher["epochs"]} epochs, {teacher["wall"]:.0f} s', flush=True)
    probe = build(TEACHER)
    probe.load_state_dict(teacher['state_dict'])
    probe, state = cached_teacher(probe)
    diff = verify_cache(probe, state, args.batch)
    print(f'cached teacher vs live forward: max |diff| = {diff:.2e}',
          flush=True)
    if diff > 1e-4:
        raise RuntimeError(f'teacher cache differs from the live forward by '
                           f'{diff}; refusing to use it.')

    common = dict(teacher_state=teacher['state_dict'], batch=args.batch,
                  lr=args.lr)
    jobs = [
        dict(common, regime=regime, seed=seed, depth=None,
             student=PAPER_STUDENT, guided=PAPER_GUIDED, epochs=args.epochs,
             hint_epochs=args.hint_epochs)
        for seed in range(args.seeds) for regime in REGIMES
    ]
    student_mult = None
    specs = {}
    if args.depths:
        from fitnets_mm.models.utils.complexity import count_mult
        student_mult = count_mult(build(PAPER_STUDENT), (1, 28, 28))
        for depth in args.depths:
            specs[depth] = depth_student(depth, student_mult)
            jobs += [
                dict(common, regime=regime, seed=0, depth=depth,
                     student=specs[depth][0],
                     guided=f'backbone.layers.{depth // 2}',
                     epochs=args.depth_epochs,
                     hint_epochs=args.depth_epochs / 3)
                for regime in REGIMES
            ]
    print(f'{len(jobs)} student runs on {args.workers} workers', flush=True)
    results = run_jobs(jobs, args.workers)
    main_rows = [r for r in results if r['depth'] is None]
    depth_rows = [r for r in results if r['depth'] is not None]
    wall = time.time() - t_start
    cmd = 'python benchmarks/mnist_evidence.py ' + ' '.join(sys.argv[1:])
    setup = (
        f'Students: Adam lr {args.lr}, batch {args.batch}, no augmentation, '
        f'no early stopping (test error after the last step). backprop and '
        f'KD: {args.epochs:g} epochs; FitNets: {args.hint_epochs:g} hint '
        f'epochs + {args.epochs:g} KD epochs. Teacher: '
        f'{teacher["epochs"]:g} epochs. KD: tau {TAU:g}, lambda 4 -> 1 '
        f'linear over the KD stage. Same initial student and data order per '
        f'seed in all regimes. Teacher hint-layer outputs cached (max |cached'
        f' - live| = {diff:.1e}).')
    table = main_table(main_rows, teacher)
    print('\n' + setup + '\n\n' + table, flush=True)
    os.makedirs(args.results, exist_ok=True)
    info = machine_info()
    with open(os.path.join(args.results, 'mnist_evidence.md'), 'w') as f:
        f.write('# FitNets on MNIST (real digits, 8,000 train / 2,000 test)'
                '\n\n')
        f.write(f'Command: `{cmd}`; total wall time {wall:.0f} s; load '
                f'average at start {load_start}.\n\n{setup}\n\n{table}\n\n')
        f.write('Machine:\n\n```\n' + info + '\n```\n')
    if depth_rows:
        dtable = depth_table(depth_rows, specs)
        dsetup = (f'Depth study: 3x3 maxout conv layers (2 pieces, no '
                  f'normalisation) in 3 stages pooled 2/2, width chosen as '
                  f'the largest within the paper student\'s '
                  f'{student_mult / 1e6:.2f}M multiplications; seed 0; '
                  f'{args.depth_epochs:g} epochs per regime (FitNets: '
                  f'{args.depth_epochs / 3:g} hint epochs first); hint: '
                  f'teacher layers.1 -> student middle layer.')
        print('\n' + dsetup + '\n\n' + dtable, flush=True)
        png = os.path.join(args.results, 'mnist_depth.png')
        plot_depth(depth_rows, png)
        with open(os.path.join(args.results, 'mnist_depth.md'), 'w') as f:
            f.write('# Depth study (FitNets Figure 2 spirit), MNIST\n\n')
            f.write(f'Command: `{cmd}`\n\n{dsetup}\n\n{dtable}\n\n'
                    '![accuracy vs depth](mnist_depth.png)\n')
    print(f'\nwall time {wall:.0f} s; load average at start {load_start}, '
          f'at end {open("/proc/loadavg").read().strip()}', flush=True)


if __name__ == '__main__':
    main()

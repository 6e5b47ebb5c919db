"""FitNets' MNIST claim on real digits (paper Table 4 and Figure 2), trained
by the product: every network is a config of ``configs/fitnets/paper/`` run
by ``tools/train.py`` (mmengine's Runner).

Each run is a small leaf config written into its work dir: it inherits a
paper config and changes only the data (the real-digit split), the epochs
and, for the depth study, the student; it is trained by
``python tools/train.py LEAF --work-dir DIR --cfg-options randomness.seed=S``
and its test accuracy read from the Runner's log. Nothing else is re-done
here: no loop, no optimizer, no schedule.

* Teacher: ``maxout-teacher_1xb128_mnist.py`` (the paper's maxout teacher),
  trained once.
* Table 4, the paper's 30K-parameter thin deep student, three regimes in the
  authors' regime (RMSProp 5e-4, max-norm, U(+-0.005) init):
  ``backprop`` = ``maxout-student-paper_1xb128_mnist.py``;
  ``KD`` = ``fitnets-paper_maxout-teacher-student_1xb128_mnist.py`` with
  ``hints=[]`` and ``hint_epochs=0``; ``FitNets`` = the same config with its
  hint (teacher layer 2 -> student layer 4) for ``--hint-epochs`` and its
  stage-1 validation and best selection.
* Depth study (Figure 2's shape): maxout students of ``--depths`` 3x3 conv
  layers, each as wide as the paper student's multiplications allow, in the
  same three regimes (hint at the student's middle layer).

Every regime trains on digits 0-6,999 of the 8,000-digit training split
(FitNets validates its hint loss on 7,000-7,999) and is tested on the 2,000
test digits. Results are saved per run (``--out/runs/*.json``): a second
call skips finished runs, so a long study can be split.

Data: ``python ../shared/data/make_mnist_split.py DIR`` (8,000 training,
2,000 test digits); the script makes it in ``--data`` when missing.

    python benchmarks/mnist_evidence.py                  # full study
    python benchmarks/mnist_evidence.py --quick          # smoke test
"""
import argparse
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from study_runs import result_path, train_leaf  # the script's folder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER_DIR = os.path.join(REPO, 'configs', 'fitnets', 'paper')
MAKE_SPLIT = os.path.join(os.path.dirname(REPO), 'shared', 'data',
                          'make_mnist_split.py')
TEACHER_CFG = os.path.join(PAPER_DIR, 'maxout-teacher_1xb128_mnist.py')
BACKPROP_CFG = os.path.join(PAPER_DIR, 'maxout-student-paper_1xb128_mnist.py')
FITNETS_CFG = os.path.join(
    PAPER_DIR, 'fitnets-paper_maxout-teacher-student_1xb128_mnist.py')
REGIMES = ('backprop', 'KD', 'FitNets')
PAPER = {'teacher': 0.55, 'backprop': 1.9, 'KD': 0.65, 'FitNets': 0.51}
TRAIN, HINT_VAL = 7000, 8000  # digits [0, TRAIN) train, [TRAIN, HINT_VAL)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='1 seed, 1 epoch per stage on 512 digits')
    parser.add_argument('--seeds', type=int, default=None,
                        help='Table 4 seeds (default 5, quick 1)')
    parser.add_argument('--depth-seeds', type=int, default=None,
                        help='seeds per depth-study point (default 3, '
                        'quick 1)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='epochs of backprop and KD, and FitNets '
                        'hint + KD epochs in total (default 12, quick 2)')
    parser.add_argument('--hint-epochs', type=int, default=None,
                        help='FitNets stage-1 epochs (default 3, quick 1)')
    parser.add_argument('--depth-epochs', type=int, default=None,
                        help='epochs of each depth-study run, both stages '
                        'counted (default 8, quick 2)')
    parser.add_argument('--depth-hint-epochs', type=int, default=None,
                        help='FitNets stage-1 epochs in the depth study '
                        '(default 2, quick 1)')
    parser.add_argument('--teacher-epochs', type=int, default=None,
                        help='teacher epochs (default 5, quick 1)')
    parser.add_argument('--depths', default=None,
                        help='conv depths of the depth study (default '
                        '3,5,7,11; quick 3,5; "" to skip)')
    parser.add_argument('--train-digits', type=int, default=None,
                        help=f'training digits (default {TRAIN}, quick 512)')
    parser.add_argument('--test-digits', type=int, default=None,
                        help='test digits (default all 2,000; quick 500)')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: report the finished runs')
    parser.add_argument('--workers', type=int, default=2,
                        help='runs at a time (one torch thread each)')
    parser.add_argument('--data', default='/tmp/fitnets_mnist',
                        help='MNIST split folder (made if missing)')
    parser.add_argument('--out', default=None,
                        help='work dirs and per-run results (default '
                        'work_dirs/mnist_evidence[_quick])')
    parser.add_argument('--results', default=None,
                        help='where the tables and the plot go (default '
                        'benchmarks/results, quick: --out)')
    args = parser.parse_args(argv)
    quick = args.quick
    # the full defaults are the measured study's (benchmarks/results/)
    defaults = dict(seeds=(5, 1), depth_seeds=(3, 1), epochs=(12, 2),
                    hint_epochs=(3, 1), depth_epochs=(8, 2),
                    depth_hint_epochs=(2, 1), teacher_epochs=(5, 1),
                    depths=('3,5,7,11', '3,5'), train_digits=(TRAIN, 512),
                    test_digits=(None, 500))
    for key, (full, small) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, small if quick else full)
    args.depths = [int(d) for d in args.depths.split(',') if d.strip()]
    for hint, total, names in (
            (args.hint_epochs, args.epochs, ('--hint-epochs', '--epochs')),
            (args.depth_hint_epochs, args.depth_epochs,
             ('--depth-hint-epochs', '--depth-epochs'))):
        if hint >= total:
            parser.error(f'{names[0]} ({hint}) must be below {names[1]} '
                         f'({total}), which counts both stages.')
    if args.out is None:
        args.out = os.path.join(
            'work_dirs', 'mnist_evidence' + ('_quick' if quick else ''))
    if args.results is None:
        args.results = args.out if quick else os.path.join(
            REPO, 'benchmarks', 'results')
    return args


# --------------------------------------------------------------- configs
class _Range:
    """Written into a config as ``range(start, stop)`` (a list of the
    numbers would be written out in every checkpoint's config text)."""

    def __init__(self, start: int, stop: int) -> None:
        self.start, self.stop = start, stop

    def __repr__(self) -> str:
        return f'range({self.start}, {self.stop})'


def _loader(root: str, start: int, stop: Optional[int],
            test_mode: bool) -> dict:
    indices = None if stop is None else _Range(start, stop)
    return dict(dataset=dict(data_root=root, test_mode=test_mode,
                             indices=indices))


def _data_lines(root: str, digits: int,
                test_digits: Optional[int]) -> List[str]:
    """Config lines pointing every dataloader at the real-digit split."""
    test = _loader(root, 0, test_digits, True)
    return [
        f'train_dataloader = {_loader(root, 0, digits, False)!r}',
        f'val_dataloader = {test!r}',
        f'test_dataloader = {test!r}',
    ]


def _stages_for(depth: int, width: int) -> List[dict]:
    """``depth`` 3x3 maxout conv layers in 3 stages pooled 2/2."""
    per = [depth // 3 + (1 if i < depth % 3 else 0) for i in range(3)]
    return [
        dict(channels=[width] * n, kernel_size=3, padding=1, pool_size=2,
             pool_stride=2) for n in per
    ]


def depth_student(depth: int, budget: int) -> Tuple[dict, dict, int, int]:
    """The backbone and head of a student of ``depth`` conv layers, as wide
    as ``budget`` multiplications allow; returns (backbone, head, width,
    multiplications)."""
    import fitnets_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    from fitnets_mm.models.utils.complexity import count_mult
    uniform = dict(type='Uniform', layer=['Conv2d', 'Linear'], a=-0.005,
                   b=0.005, bias=0.)

    def spec(width: int) -> Tuple[dict, dict, int]:
        backbone = dict(type='MaxoutConvNet', stages=_stages_for(depth,
                                                                width),
                        in_channels=1, input_size=28, num_pieces=2,
                        flatten_output=True, init_cfg=uniform)
        head = dict(type='LinearClsHead', num_classes=10,
                    in_channels=width * 4 * 4, init_cfg=uniform,
                    loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
        model = MODELS.build(dict(type='ImageClassifier', backbone=backbone,
                                  neck=None, head=head))
        return backbone, head, count_mult(model, (1, 28, 28))

    low, high = 2, 128  # mult(low) <= budget < mult(high)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if spec(mid)[2] <= budget else (low, mid)
    backbone, head, mult = spec(low)
    return backbone, head, low, mult


def _fitnets_hooks() -> List[dict]:
    """The ``custom_hooks`` of the paper FitNets config, as plain dicts."""
    from mmengine.config import Config
    return [h.to_dict() for h in Config.fromfile(FITNETS_CFG).custom_hooks]


def leaf_config(job: dict, args: argparse.Namespace) -> str:
    """The text of the leaf config of one run."""
    regime = job['regime']
    base = {'teacher': TEACHER_CFG, 'backprop': BACKPROP_CFG}.get(
        regime, FITNETS_CFG)
    # the teacher trains on all the digits the students see
    digits = args.train_digits + HINT_VAL - TRAIN if regime == 'teacher' \
        else args.train_digits
    lines = [f'_base_ = [{base!r}]'] + _data_lines(args.data, digits,
                                                   args.test_digits)
    total = job['epochs']
    if regime in ('teacher', 'backprop'):
        lines.append(f'train_cfg = dict(max_epochs={total}, '
                     f'val_begin={total})')
    else:
        hint = job['hint_epochs'] if regime == 'FitNets' else 0
        lines.append(f'train_cfg = dict(hint_epochs={hint}, '
                     f'kd_epochs={total - hint}, val_begin={total})')
        lines.append(f'model = dict(teacher_ckpt={job["teacher_ckpt"]!r})')
    if regime in ('KD', 'FitNets'):
        # the config's hooks; KD has no hint stage, so no stage-1 validation
        hooks = [h for h in _fitnets_hooks()
                 if 'HintValidation' not in h['type']]
        if regime == 'FitNets':
            stop = args.train_digits + HINT_VAL - TRAIN
            hooks.insert(2, dict(
                type='mmrazor.HintValidationHook', keep_best=True,
                dataloader=dict(
                    batch_size=500, num_workers=0,
                    dataset=dict(type='MNIST', data_root=args.data,
                                 test_mode=False,
                                 indices=_Range(args.train_digits, stop),
                                 pipeline=[dict(type='PackInputs')]),
                    sampler=dict(type='DefaultSampler', shuffle=False))))
        else:
            lines.append('model.update(hints=[])')
        lines.append(f'custom_hooks = {hooks!r}')
    if job.get('depth'):
        backbone = f'dict(_delete_=True, **{job["backbone"]!r})'
        head = f'dict(_delete_=True, **{job["head"]!r})'
        if regime == 'backprop':
            lines.append(f'model = dict(backbone={backbone}, head={head})')
        else:
            lines.append(f'model.update(architecture=dict(backbone='
                         f'{backbone}, head={head}))')
        if regime == 'FitNets':
            hint = dict(
                student=f'backbone.layers.{job["depth"] // 2}',
                teacher='backbone.layers.1',
                regressor=dict(num_pieces=2, act_cfg=None, init_cfg=dict(
                    type='Uniform', layer='Conv2d', a=-0.05, b=0.05,
                    bias=0.)),
                loss=dict(type='HintLoss'))
            lines.append(f'model.update(hints=[{hint!r}])')
    # no worker processes: one torch thread per run, runs side by side
    for split in ('train', 'val', 'test'):
        lines.append(f'{split}_dataloader.update(num_workers=0, '
                     'persistent_workers=False)')
    lines.append("default_hooks = dict(checkpoint=dict(interval=1000, "
                 "save_last=True, save_best=None, max_keep_ckpts=1), "
                 "logger=dict(interval=20))")
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------ runs
def _accuracy(log: str) -> float:
    found = re.findall(r'Epoch\(val\) \[\d+\]\[\d+/\d+\]\s+accuracy/top1: '
                       r'([\d.]+)', log)
    if not found:
        raise RuntimeError('no validation accuracy in the log:\n' +
                           log[-3000:])
    return float(found[-1])


def run_job(job: dict, args: argparse.Namespace) -> dict:
    """Train one run through tools/train.py, or read its saved result."""
    done = os.path.isfile(result_path(args.out, job['name']))
    result = train_leaf(
        job['name'], leaf_config(job, args), job['seed'], args.out,
        lambda log: dict(accuracy=_accuracy(log)),
        {k: v for k, v in job.items() if k not in ('backbone', 'head')})
    if not done:
        print(f'{job["name"]}: {result["accuracy"]:.2f} % in '
              f'{result["wall"]:.0f} s', flush=True)
    return result


def run_jobs(teacher_job: dict, jobs: List[dict],
             args: argparse.Namespace) -> Tuple[dict, List[dict]]:
    """Run (or read back) the teacher and every student job; with
    ``--report-only``, read back the finished ones only.

    Table 4's backprop students need no teacher: they run beside it; the KD
    and FitNets runs wait for its checkpoint."""
    if args.report_only:
        done = [j for j in jobs if os.path.isfile(
            os.path.join(args.out, 'runs', j['name'] + '.json'))]
        print(f'--report-only: {len(done)} of {len(jobs)} runs finished',
              flush=True)
        return run_job(teacher_job, args), [run_job(j, args) for j in done]
    order = sorted(jobs, key=lambda j: not (j['regime'] == 'backprop'
                                          and j['depth'] is None))
    with ThreadPoolExecutor(max(1, args.workers)) as pool:
        teacher = pool.submit(run_job, teacher_job, args)

        def student(job: dict) -> dict:
            if job['regime'] != 'backprop':
                teacher.result()
            return run_job(job, args)

        futures = [pool.submit(student, j) for j in order]
        return teacher.result(), [f.result() for f in futures]


# --------------------------------------------------------------- reports
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36,
       8: 2.31, 9: 2.26, 10: 2.23, 11: 2.20, 12: 2.18, 13: 2.16, 14: 2.14,
       15: 2.13, 16: 2.12, 17: 2.11, 18: 2.10, 19: 2.09, 20: 2.09,
       25: 2.06, 30: 2.04, 40: 2.02, 60: 2.00, 120: 1.98}
"""Two-sided 95 % quantiles of Student's t, by degrees of freedom."""


def t95(df: int) -> float:
    """The 95 % t quantile for ``df`` degrees of freedom; between listed
    values, the one of the next smaller listed df (a slightly wider,
    conservative interval); 1.96 past 120."""
    if df < 1:
        raise ValueError(f'a t interval needs df >= 1, got {df}')
    if df > 120:
        return 1.96
    return T95[max(k for k in T95 if k <= df)]


def mean_ci(values: Sequence[float]) -> Tuple[float, float, float]:
    """Mean, std and the half-width of a 95 % t confidence interval."""
    n = len(values)
    if n == 0:
        return float('nan'), float('nan'), float('nan')
    mean = statistics.fmean(values)
    if n < 2:
        return mean, float('nan'), float('nan')
    std = statistics.stdev(values)
    return mean, std, t95(n - 1) * std / math.sqrt(n)


def main_table(results: List[dict], teacher: dict) -> str:
    lines = [
        '| regime | test error % (mean ± std) | seeds | wall s / run '
        '| paper Table 4 |',
        '|---|---:|---:|---:|---:|',
        f'| teacher (maxout 48-48-24) | {100 - teacher["accuracy"]:.2f} '
        f'| 1 | {teacher["wall"]:.0f} | {PAPER["teacher"]:.2f} |',
    ]
    by_regime = {r: sorted((x for x in results if x['regime'] == r),
                           key=lambda x: x['seed']) for r in REGIMES}
    for regime, rows in by_regime.items():
        errors = [100 - r['accuracy'] for r in rows]
        mean, std, _ = mean_ci(errors)
        if not rows:
            lines.append(f'| {regime} | not run yet | 0 | - '
                         f'| {PAPER[regime]:.2f} |')
            continue
        spread = f'{mean:.2f} ± {std:.2f}' if len(rows) > 1 else \
            f'{mean:.2f} (1 seed)'
        wall = statistics.fmean(r['wall'] for r in rows)
        lines.append(f'| {regime} | {spread} | {len(rows)} | {wall:.0f} '
                     f'| {PAPER[regime]:.2f} |')
    lines += ['', '| paired difference (test error, points) | mean | '
              '95 % CI | seeds |', '|---|---:|---:|---:|']
    for a, b in (('FitNets', 'backprop'), ('FitNets', 'KD'),
                 ('KD', 'backprop')):
        errs_a = {r['seed']: 100 - r['accuracy'] for r in by_regime[a]}
        errs_b = {r['seed']: 100 - r['accuracy'] for r in by_regime[b]}
        diffs = [errs_a[s] - errs_b[s] for s in sorted(errs_a)
                 if s in errs_b]
        mean, _, ci = mean_ci(diffs)
        interval = f'[{mean - ci:.2f}, {mean + ci:.2f}]' \
            if len(diffs) > 1 else '-'
        lines.append(f'| {a} − {b} | {mean:+.2f} | {interval} '
                     f'| {len(diffs)} |')
    lines += ['', '| seed | ' + ' | '.join(REGIMES) + ' |',
              '|---:|' + '---:|' * len(REGIMES)]
    for seed in sorted({r['seed'] for r in results}):
        cells = []
        for regime in REGIMES:
            row = [r for r in by_regime[regime] if r['seed'] == seed]
            cells.append(f'{100 - row[0]["accuracy"]:.2f}' if row else '-')
        lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def depth_summary(results: List[dict]) -> Dict[Tuple[int, str], tuple]:
    summary = {}
    for depth in sorted({r['depth'] for r in results}):
        for regime in REGIMES:
            accs = [r['accuracy'] for r in results
                    if r['depth'] == depth and r['regime'] == regime]
            mean, std, _ = mean_ci(accs)
            summary[depth, regime] = (mean, std, len(accs))
    return summary


def depth_table(results: List[dict], specs: Dict[int, tuple]) -> str:
    summary = depth_summary(results)
    lines = [
        '| conv layers | width | mult | guided layer | ' +
        ' | '.join(f'{r} acc % (mean ± std, n)' for r in REGIMES) + ' |',
        '|---:|---:|---:|---|' + '---:|' * len(REGIMES),
    ]
    for depth in sorted(specs):
        _, _, width, mult = specs[depth]
        cells = []
        for regime in REGIMES:
            mean, std, n = summary.get((depth, regime), (0, 0, 0))
            cells.append(f'{mean:.2f} ± {std:.2f} ({n})' if n > 1 else
                         f'{mean:.2f} ({n})' if n else '- (0)')
        lines.append(f'| {depth} | {width} | {mult / 1e6:.2f}M '
                     f'| layers.{depth // 2} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_depth(results: List[dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    summary = depth_summary(results)
    depths = sorted({d for d, _ in summary})
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for regime, marker in zip(REGIMES, 'osD'):
        points = [(d, ) + summary[d, regime] for d in depths
                  if summary[d, regime][2]]
        ax.errorbar([p[0] for p in points], [p[1] for p in points],
                    yerr=[p[2] if p[3] > 1 else 0 for p in points],
                    marker=marker, capsize=3, label=regime)
    ax.set_xlabel('conv layers (thin maxout student, ~fixed mult.)')
    ax.set_ylabel('test accuracy (%), mean ± std over seeds')
    ax.set_title('MNIST, paper regime: accuracy vs depth')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine_info() -> str:
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True).stdout.strip()

    import torch
    return '\n'.join([
        f'nproc: {sh("nproc")}',
        sh("lscpu | grep -E 'Model name|^CPU\\(s\\)|Flags' | "
           "sed 's/Flags:.*avx512.*/Flags: ... avx512 .../'"),
        f'torch {torch.__version__}, python {platform.python_version()}',
        f'load average at end: {sh("cat /proc/loadavg")}',
    ])


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    args.out = os.path.abspath(args.out)
    args.data = os.path.abspath(args.data)
    t_start = time.time()
    load_start = open('/proc/loadavg').read().strip()
    if not os.path.isfile(os.path.join(args.data, 'train-images-idx3-ubyte')):
        subprocess.run([sys.executable, MAKE_SPLIT, args.data], check=True)
    teacher_job = dict(name='teacher', regime='teacher', seed=0,
                       epochs=args.teacher_epochs)
    ckpt = os.path.join(args.out, 'teacher', f'epoch_{args.teacher_epochs}'
                        '.pth')
    common = dict(teacher_ckpt=ckpt, epochs=args.epochs,
                  hint_epochs=args.hint_epochs)
    jobs = [dict(common, name=f'table4_{regime}_s{seed}', regime=regime,
                 seed=seed, depth=None)
            for seed in range(args.seeds) for regime in REGIMES]
    specs = {}
    if args.depths:
        import fitnets_mm  # noqa: F401
        from mmpretrain.registry import MODELS
        from fitnets_mm.models.utils.complexity import count_mult
        budget = count_mult(
            MODELS.build(dict(type='ImageClassifier', backbone=dict(
                type='FitNetMNIST', arch='student'), neck=None, head=dict(
                    type='LinearClsHead', num_classes=10, in_channels=108))),
            (1, 28, 28))
        for depth in args.depths:
            specs[depth] = depth_student(depth, budget)
            jobs += [dict(common, epochs=args.depth_epochs,
                          hint_epochs=args.depth_hint_epochs,
                          name=f'depth{depth}_{regime}_s{seed}',
                          regime=regime, seed=seed, depth=depth,
                          backbone=specs[depth][0], head=specs[depth][1])
                     for seed in range(args.depth_seeds)
                     for regime in REGIMES]
    print(f'{len(jobs)} student runs, {args.workers} at a time', flush=True)
    teacher, results = run_jobs(teacher_job, jobs, args)
    print(f'teacher: {teacher["accuracy"]:.2f} % test accuracy', flush=True)
    wall = time.time() - t_start
    cmd = 'python benchmarks/mnist_evidence.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    setup = (
        f'Every run is `tools/train.py` on a leaf of a '
        f'`configs/fitnets/paper/` config (the authors\' regime: RMSProp '
        f'5e-4, max-norm, U(±0.005) init, fresh stage-2 optimizer, lambda 4 '
        f'held 5 KD epochs then linear to 0 at KD epoch 150). Training '
        f'digits 0-{args.train_digits - 1} of the 8,000-digit split, test: '
        + (f'the first {args.test_digits} of the 2,000 test digits'
           if args.test_digits else 'the 2,000 test digits') +
        f', no augmentation, accuracy after the last '
        f'epoch. backprop and KD: {args.epochs} epochs; FitNets: '
        f'{args.hint_epochs} hint epochs (hint loss validated on digits '
        f'{args.train_digits}-{args.train_digits + HINT_VAL - TRAIN - 1}, '
        f'best reloaded) + {args.epochs - args.hint_epochs} KD epochs. '
        f'Teacher: {args.teacher_epochs} epochs (Adam, its config). Seeds '
        f'0-{args.seeds - 1}; the seed sets the initial weights and the data '
        f'order.')
    table = main_table([r for r in results if r['depth'] is None], teacher)
    print('\n' + setup + '\n\n' + table, flush=True)
    os.makedirs(args.results, exist_ok=True)
    info = machine_info()
    with open(os.path.join(args.results, 'mnist_evidence.md'), 'w') as f:
        f.write('# FitNets on MNIST (real digits), Table 4\n\n')
        f.write(f'Command: `{cmd}`; total wall time {wall:.0f} s (finished '
                f'runs are read back, not retrained); load average at start '
                f'{load_start}.\n\n{setup}\n\n{table}\n\n')
        f.write('Machine:\n\n```\n' + info + '\n```\n')
    depth_rows = [r for r in results if r['depth'] is not None]
    if depth_rows:
        dtable = depth_table(depth_rows, specs)
        dsetup = (f'Depth study: 3x3 maxout conv layers (2 pieces, no '
                  f'normalisation) in 3 stages pooled 2/2, width the largest '
                  f'within the paper student\'s multiplications; '
                  f'{args.depth_seeds} seeds per point; same regimes as '
                  f'Table 4; backprop and KD: {args.depth_epochs} epochs, '
                  f'FitNets: {args.depth_hint_epochs} hint + '
                  f'{args.depth_epochs - args.depth_hint_epochs} KD epochs; '
                  f'hint: teacher layers.1 -> the '
                  f'student\'s middle layer.')
        print('\n' + dsetup + '\n\n' + dtable, flush=True)
        plot_depth(depth_rows, os.path.join(args.results, 'mnist_depth.png'))
        with open(os.path.join(args.results, 'mnist_depth.md'), 'w') as f:
            f.write('# Depth study (FitNets Figure 2), MNIST\n\n')
            f.write(f'Command: `{cmd}`\n\n{dsetup}\n\n{dtable}\n\n'
                    '![accuracy vs depth](mnist_depth.png)\n')
    print(f'\nwall time {wall:.0f} s; load average at start {load_start}, '
          f'at end {open("/proc/loadavg").read().strip()}', flush=True)


if __name__ == '__main__':
    main()

"""FSP's "fast optimization" claim on real digits, through mmengine's Runner.

Yim et al. (CVPR 2017) report that a student initialised by FSP (stage 1)
reaches the accuracy of a normally trained one in about a third of the
iterations. This script trains the FitNets paper's thin MNIST student
(30K parameters) three ways per seed, every run built from the repository's
configs and trained by ``Runner.train()`` (the code path of
``tools/train.py``):

* ``backprop``: ``configs/fitnets/paper/maxout-student_1xb128_mnist.py``
  for ``--epochs`` epochs;
* ``FitNets-init``: ``--hint-epochs`` of FitNets hint training (teacher
  layer 2 -> student layer 4, the regressor and L_HT of
  ``fitnets_maxout-teacher-student_1xb128_mnist.py``), then ``--epochs`` on
  the labels alone;
* ``FSP-init``: ``--hint-epochs`` of FSP
  (``fsp_maxout-teacher-student_1xb128_mnist.py``), then ``--epochs`` on
  the labels alone.

Stage 2 is the same cross-entropy training in all three, so the curves
differ by the initialisation only. The teacher
(``maxout-teacher_1xb128_mnist.py``, ``--teacher-epochs``) is trained once
and cached in ``--out``. Every run validates on the 2,000 test digits after
each epoch; the script tabulates the test accuracy after each stage-2 epoch
(mean and standard deviation over seeds) and plots it.

Data: ``python ../shared/data/make_mnist_split.py DIR`` (8,000 training,
2,000 test digits); made in ``--data`` when missing.

    python benchmarks/fsp_speed_of_convergence.py            # full study
    python benchmarks/fsp_speed_of_convergence.py --quick    # smoke test
"""
import argparse
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

from mmengine.hooks import Hook

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MAKE_SPLIT = osp.join(osp.dirname(REPO), 'shared', 'data',
                      'make_mnist_split.py')
PAPER_CFG = osp.join(REPO, 'configs', 'fitnets', 'paper')
CONFIGS = dict(
    teacher='maxout-teacher_1xb128_mnist.py',
    backprop='maxout-student_1xb128_mnist.py',
    fitnets='fitnets_maxout-teacher-student_1xb128_mnist.py',
    fsp='fsp_maxout-teacher-student_1xb128_mnist.py')
REGIMES = ('backprop', 'FitNets-init', 'FSP-init')
#: Work dirs of the runs read from ``accuracy.json`` instead of trained.
REUSED: List[str] = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='1 seed, 1 epoch per stage, 512 + 256 digits')
    parser.add_argument('--seeds', type=int, default=None,
                        help='student seeds (default 3, quick 1)')
    parser.add_argument('--only-seed', type=int, default=None,
                        help='train this seed only and write no report (to '
                        'run seeds in parallel; a later run without it '
                        'reuses the finished runs)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='backprop epochs = stage-2 epochs '
                        '(default 5, quick 1)')
    parser.add_argument('--hint-epochs', type=int, default=1,
                        help='stage-1 epochs of FitNets-init and FSP-init')
    parser.add_argument('--teacher-epochs', type=int, default=None,
                        help='teacher epochs (default 2, quick 1)')
    parser.add_argument('--train-digits', type=int, default=None,
                        help='training digits used (default all 8,000, '
                        'quick 512)')
    parser.add_argument('--test-digits', type=int, default=None,
                        help='test digits used (default all 2,000, quick '
                        '256)')
    parser.add_argument('--data', default='/tmp/fitnets_mnist',
                        help='MNIST split directory (made if missing)')
    parser.add_argument('--out', default=None,
                        help='working directory (teacher, run logs); '
                        'default benchmarks/results/fsp_work')
    parser.add_argument('--results', default=None,
                        help='directory of fsp_speed.md/.png (default '
                        'benchmarks/results; quick: --out)')
    args = parser.parse_args()
    q = args.quick
    args.seeds = args.seeds or (1 if q else 3)
    args.epochs = args.epochs or (1 if q else 5)
    args.teacher_epochs = args.teacher_epochs or (1 if q else 2)
    args.train_digits = args.train_digits or (512 if q else None)
    args.test_digits = args.test_digits or (256 if q else None)
    args.out = args.out or (osp.join(REPO, 'benchmarks', 'results',
                                     'fsp_work') if not q else
                            '/tmp/fitnets_fsp_quick')
    args.results = args.results or (osp.join(REPO, 'benchmarks', 'results')
                                    if not q else args.out)
    return args


# --------------------------------------------------------------- configs
def load_config(name: str, args: argparse.Namespace, work_dir: str,
                seed: int) -> Any:
    """A repository config with this study's data, seed and work dir."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(PAPER_CFG, CONFIGS[name]))
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = args.data
        loader.num_workers = 0
        loader.persistent_workers = False
    if args.train_digits:
        cfg.train_dataloader.dataset.indices = args.train_digits
    if args.test_digits:
        cfg.val_dataloader.dataset.indices = args.test_digits
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    cfg.default_hooks.logger.interval = 50
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1,
                                        save_last=True)
    return cfg


def two_stage(cfg: Any, args: argparse.Namespace, teacher_ckpt: str) -> Any:
    """Stage 1 as configured, then ``--epochs`` on the labels alone."""
    cfg.model.teacher_ckpt = teacher_ckpt
    cfg.train_cfg.hint_epochs = args.hint_epochs
    cfg.train_cfg.kd_epochs = args.epochs
    cfg.model.type = 'FSPDistill'
    cfg.model.setdefault('fsp_pairs', [])
    cfg.model.distiller = dict(type='ConfigurableDistiller')
    cfg.custom_hooks = [dict(type='mmrazor.FiniteWeightsGuardHook')]
    return cfg


# --------------------------------------------------------------- running
class AccuracyRecorder(Hook):
    """Keep the student's test top-1 after each validation epoch."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.accuracy: List[float] = []

    def after_val_epoch(self, runner: Any,
                        metrics: Optional[Dict] = None) -> None:
        self.accuracy.append(float(metrics['accuracy/top1']))


def train(cfg: Any) -> List[float]:
    """Train ``cfg`` with a Runner; the test accuracy after each epoch."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    recorder = AccuracyRecorder()
    runner.register_hook(recorder)
    runner.train()
    _close_logs()
    return recorder.accuracy


def _close_logs() -> None:
    """Close the runner's log files before the next runner starts."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.visualization import Visualizer
    for logger in list(MMLogger._instance_dict.values()):
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)
    MMLogger._instance_dict.clear()
    Visualizer._instance_dict.clear()
    MessageHub._instance_dict.clear()


def teacher_checkpoint(args: argparse.Namespace) -> str:
    work = osp.join(args.out, 'teacher')
    ckpt = osp.join(work, f'epoch_{args.teacher_epochs}.pth')
    if not osp.exists(ckpt):
        cfg = load_config('teacher', args, work, seed=0)
        cfg.train_cfg.max_epochs = args.teacher_epochs
        acc = train(cfg)
        print(f'teacher: test top-1 {acc[-1]:.2f} %', flush=True)
    return ckpt


def run_regime(regime: str, seed: int, args: argparse.Namespace,
               teacher_ckpt: str) -> List[float]:
    """Stage-2 (or backprop) test accuracy after each epoch.

    A finished run writes ``accuracy.json`` into its work dir, and is not
    trained again while that file matches the settings.
    """
    work = osp.join(args.out, f'{regime}_seed{seed}')
    done = osp.join(work, 'accuracy.json')
    settings = dict(epochs=args.epochs, hint_epochs=args.hint_epochs,
                    teacher_epochs=args.teacher_epochs,
                    train_digits=args.train_digits,
                    test_digits=args.test_digits)
    if osp.exists(done):
        with open(done) as f:
            saved = json.load(f)
        if saved['settings'] == settings:
            REUSED.append(work)
            return saved['accuracy']
    if regime == 'backprop':
        cfg = load_config('backprop', args, work, seed)
        cfg.train_cfg.max_epochs = args.epochs
        acc = train(cfg)
    else:
        name = 'fitnets' if regime == 'FitNets-init' else 'fsp'
        cfg = two_stage(load_config(name, args, work, seed), args,
                        teacher_ckpt)
        acc = train(cfg)[args.hint_epochs:]
    with open(done, 'w') as f:
        json.dump(dict(settings=settings, accuracy=acc), f)
    return acc


# --------------------------------------------------------------- report
def machine() -> str:
    try:
        lscpu = subprocess.run(['lscpu'], capture_output=True, text=True,
                               timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        lscpu = ''
    model = [ln.split(':', 1)[1].strip() for ln in lscpu.splitlines()
             if ln.startswith('Model name')]
    return (f'{platform.machine()}, {os.cpu_count()} CPUs'
            f'{", " + model[0] if model else ""}, python '
            f'{platform.python_version()}')


def first_epoch_reaching(curve: List[float], target: float) -> str:
    for epoch, acc in enumerate(curve, 1):
        if acc >= target:
            return str(epoch)
    return f'> {len(curve)}'


def report(results: Dict[str, List[List[float]]], args: argparse.Namespace,
           wall: float, command: str) -> str:
    epochs = args.epochs
    mean = {r: [statistics.mean(run[e] for run in results[r])
                for e in range(epochs)] for r in REGIMES}
    std = {r: [statistics.stdev(run[e] for run in results[r])
               if len(results[r]) > 1 else float('nan')
               for e in range(epochs)] for r in REGIMES}
    target = mean['backprop'][-1]
    lines = [
        '# FSP speed of convergence on MNIST (real digits)', '',
        f'Command: `{command}`; wall time {wall:.0f} s '
        f'({len(REUSED)} of {len(REGIMES) * args.seeds} runs reused from '
        'earlier invocations, e.g. `--only-seed`); machine: '
        f'{machine()}.', '',
        f'Thin maxout student (30K parameters) from the same configs and '
        f'Runner as `tools/train.py`: Adam lr 1e-3, batch 128, '
        f'{args.train_digits or 8000} training and {args.test_digits or 2000} '
        f'test digits, '
        f'{args.seeds} seeds. FitNets-init and FSP-init: {args.hint_epochs} '
        f'stage-1 epoch(s) from a maxout teacher ({args.teacher_epochs} '
        f'epochs), then stage 2 on the labels alone, as backprop.', '',
        'Test top-1 % after each stage-2 epoch (backprop: each epoch), '
        'mean ± std over seeds:', '',
        '| regime | ' + ' | '.join(f'epoch {e + 1}' for e in range(epochs)) +
        f' | first epoch >= backprop\'s final ({target:.2f} %) |',
        '|---|' + '---:|' * (epochs + 1),
    ]
    for r in REGIMES:
        cells = [f'{m:.2f} ± {s:.2f}' for m, s in zip(mean[r], std[r])]
        lines.append(f'| {r} | ' + ' | '.join(cells) +
                     f' | {first_epoch_reaching(mean[r], target)} |')
    lines += ['', 'Per seed (accuracy after each epoch):', '',
              '| regime | seed | accuracy % per epoch |', '|---|---:|---|']
    for r in REGIMES:
        for seed, run in enumerate(results[r]):
            lines.append(f'| {r} | {seed} | ' +
                         ', '.join(f'{a:.2f}' for a in run) + ' |')
    return '\n'.join(lines) + '\n'


def plot(results: Dict[str, List[List[float]]], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in REGIMES:
        runs = results[r]
        epochs = list(range(1, len(runs[0]) + 1))
        mean = [statistics.mean(run[e] for run in runs)
                for e in range(len(epochs))]
        ax.plot(epochs, mean, marker='o', label=f'{r} (mean)')
        for run in runs:
            ax.plot(epochs, run, color=ax.lines[-1].get_color(), alpha=0.25,
                    linewidth=0.8)
    ax.set_xlabel('stage-2 epoch (backprop: epoch)')
    ax.set_ylabel('test top-1 %')
    ax.set_title('MNIST thin student: accuracy vs stage-2 epoch')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    command = 'python benchmarks/fsp_speed_of_convergence.py ' + ' '.join(
        sys.argv[1:])
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    import torch

    import fitnets_mm  # noqa: F401  (registers the modules)
    # One thread: the nets are small, and the machine is shared.
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.results, exist_ok=True)
    if not osp.exists(osp.join(args.data, 'train-images-idx3-ubyte')):
        subprocess.run([sys.executable, MAKE_SPLIT, args.data], check=True)
    start = time.time()
    ckpt = teacher_checkpoint(args)
    results: Dict[str, List[List[float]]] = {r: [] for r in REGIMES}
    seeds = range(args.seeds) if args.only_seed is None else \
        [args.only_seed]
    for seed in seeds:
        for regime in REGIMES:
            acc = run_regime(regime, seed, args, ckpt)
            print(f'{regime} seed {seed}: ' +
                  ', '.join(f'{a:.2f}' for a in acc), flush=True)
            results[regime].append(acc)
    if args.only_seed is not None:
        return
    text = report(results, args, time.time() - start, command)
    print(text)
    with open(osp.join(args.results, 'fsp_speed.md'), 'w') as f:
        f.write(text)
    plot(results, osp.join(args.results, 'fsp_speed.png'))


if __name__ == '__main__':
    main()

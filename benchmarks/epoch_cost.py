"""The cost of one epoch of each kind of run of the Fashion-MNIST study,
measured through the product (``tools/train.py`` on the Fashion-MNIST
configs of ``configs/fitnets/paper/``), one torch thread per run.

For each kind, one run of one epoch through mmengine's Runner (in a fresh
process, one torch thread): the process CPU time from the epoch's first
hook to its last is the epoch's cost in core-seconds; the start-up
(imports, reading the data, building the model) is reported apart. CPU time
does not grow when other processes share the cores, as wall time does.
``--images N`` times the epoch on the first N training images and scales
it to the full epoch (the cost of an iteration does not depend on which
images it sees).

Kinds: ``teacher`` (maxout teacher, backprop), ``backprop`` (the thin deep
student), ``kd`` (stage 2), ``hint`` (FitNets stage 1 with its validation
hint loss on 10,000 held-out images), ``kd-cached`` and ``hint-cached``
(the same with :class:`TeacherCacheHook`, its cache filled by a first run),
``backprop-cl`` (channels_last inputs), ``val`` (one validation pass over
the 10,000 test images).

    python benchmarks/epoch_cost.py                 # all kinds
    python benchmarks/epoch_cost.py --kinds kd,kd-cached --quick
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from mmengine.hooks import Hook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER = os.path.join(REPO, 'configs', 'fitnets', 'paper')
CONFIGS = {
    'teacher': 'maxout-teacher_1xb128_fashion-mnist.py',
    'backprop': 'maxout-student-paper_1xb128_fashion-mnist.py',
    'backprop-cl': 'maxout-student-paper_1xb128_fashion-mnist.py',
    'kd': 'kd-paper_maxout-teacher-student_1xb128_fashion-mnist.py',
    'kd-cached': 'kd-paper_maxout-teacher-student_1xb128_fashion-mnist.py',
    'hint': 'fitnets-paper_maxout-teacher-student_1xb128_fashion-mnist.py',
    'hint-cached':
    'fitnets-paper_maxout-teacher-student_1xb128_fashion-mnist.py',
    'val': 'maxout-student-paper_1xb128_fashion-mnist.py',
}
KINDS = tuple(CONFIGS)
TINY = 128


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--kinds', default=','.join(KINDS),
                        help=f'comma-separated, of {",".join(KINDS)}')
    parser.add_argument('--quick', action='store_true',
                        help=f'"epochs" of {4 * TINY} images (smoke test)')
    parser.add_argument('--images', type=int, default=None,
                        help='time the epoch on the first N training images '
                        'and scale it to the full epoch (default: the full '
                        'epoch)')
    parser.add_argument('--time-leaf', default=None,
                        help=argparse.SUPPRESS)  # one run, in its process
    parser.add_argument('--data-root',
                        default='/usr/share/datasets/fashion-mnist')
    parser.add_argument('--out', default='work_dirs/epoch_cost')
    parser.add_argument('--results', default=None,
                        help='where epoch_cost.{md,json} go (default '
                        'benchmarks/results; quick: --out)')
    args = parser.parse_args(argv)
    args.kinds = [k for k in args.kinds.split(',') if k]
    unknown = set(args.kinds) - set(KINDS)
    if unknown:
        parser.error(f'unknown kinds {sorted(unknown)}; expected some of '
                     f'{",".join(KINDS)}')
    if args.results is None and not args.time_leaf:
        args.results = args.out if args.quick else os.path.join(
            REPO, 'benchmarks', 'results')
    return args


def leaf(kind: str, images: Optional[int], validate: bool,
         args: argparse.Namespace) -> str:
    """The leaf config of one timing run."""
    data = f"dict(data_root={args.data_root!r}"
    if images is not None:
        data += f', indices=range({images})'
    lines = [f"_base_ = [{os.path.join(PAPER, CONFIGS[kind])!r}]",
             f'train_dataloader = dict(dataset={data}), num_workers=0, '
             'persistent_workers=False)',
             f'val_dataloader = dict(dataset=dict(data_root='
             f'{args.data_root!r}), num_workers=0, persistent_workers=False)',
             'test_dataloader = val_dataloader',
             "default_hooks = dict(checkpoint=dict(interval=1000, "
             "save_last=False), logger=dict(interval=50))",
             # one seed: the same (untrained) teacher weights in every run,
             # so that a filled teacher cache is found again
             'randomness = dict(seed=0)']
    if kind in ('teacher', 'backprop', 'backprop-cl', 'val'):
        lines.append('train_cfg = dict(max_epochs=1, val_begin=%d)'
                     % (1 if validate else 1000))
        lines.append('custom_hooks = []' if kind == 'teacher' else '')
    elif kind.startswith('kd'):
        lines.append('train_cfg = dict(hint_epochs=0, kd_epochs=1, '
                     'val_begin=1000)')
    else:
        lines.append('train_cfg = dict(hint_epochs=1, kd_epochs=0, '
                     'val_begin=1000)')
        # hint validation in the full run's proportion (10,000 : 50,000)
        stop = 60000 if images is None else 50000 + max(images // 5, 1)
        lines.append(
            'hint_val_dataloader = dict(batch_size=500, num_workers=0, '
            f'dataset=dict(type="FashionMNISTGz", data_root='
            f'{args.data_root!r}, test_mode=False, indices=range('
            f'50000, {stop}), pipeline=[dict(type="PackInputs")]), '
            'sampler=dict(type="DefaultSampler", shuffle=False))')
        lines.append(
            'custom_hooks = [dict(type="mmrazor.MaxNormHook", rules=['
            'dict(modules="*backbone.layers.[01].conv", max_norm=0.9), '
            'dict(modules="*backbone.layers.*.conv", max_norm=1.9365), '
            'dict(modules="*head.fc", max_norm=1.9365), '
            'dict(modules="regressors.*", max_norm=0.9, required=False)]), '
            'dict(type="mmrazor.HintValidationHook", keep_best=True, '
            'dataloader=hint_val_dataloader)]')
    if kind.endswith('-cached'):
        cache = os.path.abspath(os.path.join(args.out, 'teacher_cache'))
        hook = f'dict(type="mmrazor.TeacherCacheHook", dir={cache!r})'
        lines.append(f'custom_hooks = custom_hooks + [{hook}]'
                     if kind == 'hint-cached' else
                     f'custom_hooks = [{hook}]')
    if kind == 'backprop-cl':
        lines.append('model = dict(data_preprocessor=dict('
                     'channels_last=True))')
    if kind != 'teacher' and CONFIGS[kind].startswith(('kd', 'fitnets')):
        lines.append('model = dict(teacher_ckpt=None)')
    return '\n'.join(line for line in lines if line) + '\n'


class EpochTimer(Hook):
    """Process CPU time and wall time of the first training epoch (from
    before its first hook to after its last) and of the first validation;
    the process runs one torch thread, so CPU seconds are core-seconds."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.marks: Dict[str, float] = {}

    def _mark(self, name: str) -> None:
        if name not in self.marks:
            self.marks[name] = time.process_time()
            self.marks[name + '_wall'] = time.time()

    def before_train_epoch(self, runner: Any) -> None:
        self._mark('before_train_epoch')

    def after_train_epoch(self, runner: Any) -> None:
        self._mark('after_train_epoch')

    def before_val_epoch(self, runner: Any) -> None:
        self._mark('before_val_epoch')

    def after_val_epoch(self, runner: Any, metrics: Any = None) -> None:
        self._mark('after_val_epoch')


def time_leaf(path: str, work_dir: str, out: str) -> None:
    """Train the leaf config ``path`` with mmengine's Runner (as
    ``tools/train.py`` does) and write the epoch's times to ``out``."""
    import fitnets_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(path)
    cfg.work_dir = work_dir
    runner = Runner.from_cfg(cfg)
    timer = EpochTimer()
    runner.register_hook(timer, 'LOWEST')
    runner.train()
    m = timer.marks
    times = dict(
        cpu_epoch=m['after_train_epoch'] - m['before_train_epoch'],
        wall_epoch=m['after_train_epoch_wall'] - m['before_train_epoch_wall'])
    if 'after_val_epoch' in m:
        times.update(
            cpu_val=m['after_val_epoch'] - m['before_val_epoch'],
            wall_val=m['after_val_epoch_wall'] - m['before_val_epoch_wall'])
    with open(out, 'w') as f:
        json.dump(times, f)


def run(name: str, text: str, args: argparse.Namespace) -> Dict[str, float]:
    """Train one leaf config in a fresh process; the epoch's times."""
    work = os.path.abspath(os.path.join(args.out, name))
    os.makedirs(work, exist_ok=True)
    path = os.path.join(args.out, 'leaves', name + '.py')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONWARNINGS='ignore')
    out = os.path.join(work, 'times.json')
    cmd = [sys.executable, os.path.abspath(__file__), '--time-leaf', path,
           '--out', work, '--results', out]
    t0 = time.time()
    with open(os.path.join(work, 'output.log'), 'w') as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        with open(os.path.join(work, 'output.log')) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{name} failed ({status}):\n{tail}')
    with open(out) as f:
        times = json.load(f)
    times.update(wall=time.time() - t0,
                 cpu=usage.ru_utime + usage.ru_stime,
                 command=f'python tools/train.py {path}')
    return times


def measure(kind: str, args: argparse.Namespace) -> Dict[str, float]:
    """Core-seconds and wall seconds of one epoch of ``kind``, scaled from
    the images timed to the full epoch."""
    images = 4 * TINY if args.quick else args.images
    full = 60000 if kind == 'teacher' else 50000
    scale = 1.0 if images is None or kind == 'val' else full / images
    if kind.endswith('-cached'):  # fill the cache first
        run(f'{kind}_fill', leaf(kind, images, False, args), args)
    if kind == 'val':
        one = run('val_on', leaf(kind, TINY, True, args), args)
        cpu, wall = one['cpu_val'], one['wall_val']
    else:
        one = run(f'{kind}_epoch', leaf(kind, images, False, args), args)
        cpu, wall = one['cpu_epoch'], one['wall_epoch']
    return dict(kind=kind, cpu_epoch=cpu * scale, wall_epoch=wall * scale,
                images=10000 if kind == 'val' else images or full,
                scale=scale, cpu_startup=one['cpu'] - cpu,
                wall_run=one['wall'], command=one['command'])


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.time_leaf:
        time_leaf(args.time_leaf, args.out, args.results)
        return []
    load = [open('/proc/loadavg').read().split()[0]]
    results = []
    for kind in args.kinds:
        result = measure(kind, args)
        load.append(open('/proc/loadavg').read().split()[0])
        results.append(result)
        print(f'{kind}: {result["cpu_epoch"]:.1f} core-s an epoch '
              f'(wall {result["wall_epoch"]:.1f} s), start-up '
              f'{result["cpu_startup"]:.1f} core-s', flush=True)
        write(results, load, args, argv)
    return results


def write(results: List[dict], load: List[str], args: argparse.Namespace,
          argv: Optional[Sequence[str]]) -> None:
    """Write the measured kinds (after each, so a long run reports what it
    has)."""
    os.makedirs(args.results, exist_ok=True)
    with open(os.path.join(args.results, 'epoch_cost.json'), 'w') as f:
        json.dump(dict(results=results, load=load, quick=args.quick,
                       nproc=os.cpu_count(),
                       python=platform.python_version()), f, indent=1)
    lines = ['| kind | core-s / full epoch | wall s / full epoch | images '
             'timed (scale) | start-up core-s | config |',
             '|---|---:|---:|---:|---:|---|']
    for r in results:
        lines.append(f'| {r["kind"]} | {r["cpu_epoch"]:.1f} '
                     f'| {r["wall_epoch"]:.1f} | {r["images"]} '
                     f'(x{r["scale"]:.2f}) | {r["cpu_startup"]:.1f} '
                     f'| {CONFIGS[r["kind"]]} |')
    cmd = 'python benchmarks/epoch_cost.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    with open(os.path.join(args.results, 'epoch_cost.md'), 'w') as f:
        f.write('# Cost of one epoch per kind of run, Fashion-MNIST\n\n'
                f'Command: `{cmd}` (run under `nice`), one torch thread '
                'per run; '
                f'load average (1 min) before and after each kind: '
                f'{", ".join(load)} on {os.cpu_count()} cores.\n\n'
                + '\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()

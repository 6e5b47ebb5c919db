"""Time to a trained student: one whole FitNets run of the MNIST paper pair
through ``tools/train.py``, against the same training in a hand-written loop.

* ``product``: ``python tools/train.py LEAF`` where ``LEAF`` inherits
  ``configs/fitnets/paper/fitnets-paper_maxout-teacher-student_1xb128_mnist.py``
  and changes only the data (``--data``: training digits ``[0, T)``, the
  stage-1 hint validation on ``[T, T + 1000)``, the test digits for
  validation), the epochs, the teacher checkpoint, and adds
  ``benchmarks/phase_timer.py``'s ``PhaseTimerHook``, which splits the run
  into start-up, step, data and loop, validation, logging, checkpointing,
  other hooks and shut-down (wall and CPU time of the main process). Its
  loaders, logging, checkpoints and validation are the config's.
* ``floor``: the same training written by hand (this file,
  :func:`floor_run`): the same student, teacher and regressor objects built
  from the same config, the digits as tensors in memory, stage 1 (truncated
  forwards, ``L_HT``, RMSProp, max-norm, hint validation, best weights
  reloaded), stage 2 (CE + lambda KD with the config's lambda schedule,
  fresh RMSProp, max-norm), a test-set validation each epoch, the student
  saved once at the end. Run in its own process, so it pays its own
  start-up.
* ``floor_copy``: the floor again: the noise control.

Runs are interleaved (product, floor, floor copy; then reversed). Wall time
is measured around each process; CPU time is the children's ``rusage``
(data-loader workers included).

There is no teacher-output cache in this branch, so every stage-2 step runs
the teacher's forward, in the product as in the floor.

Data: any MMPretrain MNIST folder (the four idx files) with at least
``T + 1000`` training digits; ``python ../shared/data/make_mnist_split.py
DIR`` makes one from the real MNIST test set (8,000 training, 2,000 test
digits), which this script calls when ``--data`` is empty and that script
exists. Without ``--teacher-ckpt``, the teacher is the config's network at
its initial weights (saved once): the time of a run does not depend on how
good the teacher is.

    python benchmarks/time_to_student.py --data data/mnist_split
    python benchmarks/time_to_student.py --quick --data DIR   # smoke test
"""
import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FITNETS_CFG = os.path.join(
    REPO, 'configs', 'fitnets', 'paper',
    'fitnets-paper_maxout-teacher-student_1xb128_mnist.py')
MAKE_SPLIT = os.path.join(os.path.dirname(REPO), 'shared', 'data',
                          'make_mnist_split.py')
IDX_FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
             't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
HINT_VAL = 1000  # digits after the training ones, for the hint validation
KINDS = ('product', 'floor', 'floor_copy')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', default='data/mnist_split',
                        help='an MMPretrain MNIST folder (made with '
                        '../shared/data/make_mnist_split.py when empty)')
    parser.add_argument('--out', default='work_dirs/time_to_student',
                        help='work folder of the runs')
    parser.add_argument('--results', default=None,
                        help='markdown file to write (default benchmarks/'
                        'results/time_to_student.md; quick: none)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='epochs in all (default 12, quick 2)')
    parser.add_argument('--hint-epochs', type=int, default=None,
                        help='stage-1 epochs (default 3, quick 1)')
    parser.add_argument('--train-digits', type=int, default=None,
                        help='training digits (default 7000, quick 512)')
    parser.add_argument('--rounds', type=int, default=1,
                        help='rounds of product, floor, floor copy')
    parser.add_argument('--teacher-ckpt', default=None,
                        help="the teacher's checkpoint (default: its "
                        'initial weights)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads of every run')
    parser.add_argument('--quick', action='store_true',
                        help='tiny settings for a smoke test')
    parser.add_argument('--floor-worker', default=None,
                        help=argparse.SUPPRESS)  # internal: run the floor
    args = parser.parse_args(argv)
    q = args.quick
    args.epochs = args.epochs or (2 if q else 12)
    args.hint_epochs = args.hint_epochs if args.hint_epochs is not None \
        else (1 if q else 3)
    args.train_digits = args.train_digits or (512 if q else 7000)
    if not 0 <= args.hint_epochs < args.epochs:
        parser.error(f'--hint-epochs must be in [0, --epochs), but got '
                     f'{args.hint_epochs} of {args.epochs}.')
    if args.results is None and not q:
        args.results = os.path.join(HERE, 'results', 'time_to_student.md')
    return args


# ------------------------------------------------------------------ data
def ensure_data(folder: str, need: int) -> None:
    """Check (or make) the MNIST folder."""
    missing = [f for f in IDX_FILES
               if not os.path.isfile(os.path.join(folder, f))]
    if missing and os.path.isfile(MAKE_SPLIT):
        subprocess.run([sys.executable, MAKE_SPLIT, folder], check=True)
        missing = [f for f in IDX_FILES
                   if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise SystemExit(
            f'--data {folder} lacks {missing}; expected an MMPretrain MNIST '
            'folder (the four uncompressed idx files).')
    count = len(read_idx(os.path.join(folder, IDX_FILES[1])))
    if count < need:
        raise SystemExit(f'--data {folder} has {count} training digits; '
                         f'expected at least {need} (--train-digits + '
                         f'{HINT_VAL}).')


def read_idx(path: str):
    """An idx file (uint8 images or labels) as a tensor."""
    import numpy as np
    import torch
    with open(path, 'rb') as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big')
             for i in range(dims)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    return torch.from_numpy(data.reshape(shape).copy())


# ---------------------------------------------------------------- configs
def _range(start: int, stop: int) -> str:
    # a range, as the paper config writes it: a list would be spelled out
    # in the config text of every checkpoint
    return f'range({start}, {stop})'


def leaf_config(args: argparse.Namespace, teacher_ckpt: str) -> str:
    """The product's leaf config: the paper config with this data, these
    epochs, this teacher and the phase timer."""
    from mmengine.config import Config
    hooks = [h.to_dict() for h in Config.fromfile(FITNETS_CFG).custom_hooks]
    stop = args.train_digits + HINT_VAL
    hint_val = None
    for hook in hooks:
        if 'HintValidationHook' in hook['type']:
            hint_val = hook['dataloader']['dataset']
            hint_val.update(data_root=args.data, indices='@HINT@')
    hooks.append(dict(type='PhaseTimerHook'))
    text = repr(hooks).replace("'@HINT@'", _range(args.train_digits, stop))
    if hint_val is None:
        raise RuntimeError(f'{FITNETS_CFG} has no HintValidationHook')
    return '\n'.join([
        f'_base_ = [{FITNETS_CFG!r}]',
        "custom_imports = dict(imports=['fitnets_mm', 'phase_timer'], "
        'allow_failed_imports=False)',
        f'train_dataloader = dict(dataset=dict(data_root={args.data!r}, '
        f'indices={_range(0, args.train_digits)}))',
        f'val_dataloader = dict(dataset=dict(data_root={args.data!r}))',
        f'test_dataloader = dict(dataset=dict(data_root={args.data!r}))',
        f'train_cfg = dict(hint_epochs={args.hint_epochs}, '
        f'kd_epochs={args.epochs - args.hint_epochs})',
        f'model = dict(teacher_ckpt={teacher_ckpt!r})',
        f'custom_hooks = {text}',
    ]) + '\n'


def initial_teacher(path: str) -> str:
    """Save the config's teacher at its initial weights (once)."""
    if os.path.isfile(path):
        return path
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    import fitnets_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(FITNETS_CFG).model.teacher.to_dict()
    cfg.pop('_scope_', None)
    torch.manual_seed(0)
    teacher = MODELS.build(cfg)
    teacher.init_weights()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()), path)
    return path


# ------------------------------------------------------------------ floor
def floor_run(leaf: str, args: argparse.Namespace) -> dict:
    """The same FitNets training as the product's, written by hand."""
    import copy

    import torch
    import torch.nn.functional as F
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    import fitnets_mm  # noqa: F401
    from mmrazor.registry import MODELS

    t0 = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config.fromfile(leaf)
    init_default_scope('mmrazor')
    algo = MODELS.build(cfg.model.to_dict())
    algo.init_weights()  # loads the teacher checkpoint
    student, teacher = algo.student, algo.teacher
    regressor = algo.regressors[0]
    teacher.eval()
    pre = student.data_preprocessor
    mean, std = float(pre.mean.flatten()[0]), float(pre.std.flatten()[0])

    images = read_idx(os.path.join(args.data, IDX_FILES[0]))
    labels = read_idx(os.path.join(args.data, IDX_FILES[1])).long()
    test_x = read_idx(os.path.join(args.data, IDX_FILES[2]))
    test_y = read_idx(os.path.join(args.data, IDX_FILES[3])).long()
    n, stop = args.train_digits, args.train_digits + HINT_VAL
    train_x, train_y = images[:n], labels[:n]
    hint_x = images[n:stop]
    batch = cfg.train_dataloader.batch_size
    val_batch = cfg.val_dataloader.batch_size

    def norm(x: torch.Tensor) -> torch.Tensor:
        return (x.float().unsqueeze(1) - mean) / std

    s_layers = student.backbone.layers
    t_layers = teacher.backbone.layers
    guided = int(cfg.model.hints[0].student.rsplit('.', 1)[1])
    hint = int(cfg.model.hints[0].teacher.rsplit('.', 1)[1])

    def upto(layers, last: int, x: torch.Tensor) -> torch.Tensor:
        for layer in layers[:last + 1]:
            x = layer(x)
        return x

    def hint_cost(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            h = upto(t_layers, hint, x)
        g = regressor(upto(s_layers, guided, x))
        return 0.5 * (g - h).pow(2).sum() / x.shape[0]

    # the max-norm rules of the config: layers 0-1 0.9, other convs and
    # the classifier 1.9365, the regressor 0.9
    limits = [(layer.conv.weight, 0.9 if i < 2 else 1.9365)
              for i, layer in enumerate(s_layers)]
    limits.append((student.head.fc.weight, 1.9365))
    limits += [(m.weight, 0.9) for m in regressor.modules()
               if isinstance(m, torch.nn.Conv2d)]

    @torch.no_grad()
    def max_norm() -> None:
        for w, limit in limits:
            norms = w.reshape(w.shape[0], -1).norm(dim=1)
            scale = (limit / (norms + 1e-7)).clamp(max=1.0)
            w.mul_(scale.view(-1, *([1] * (w.dim() - 1))))

    @torch.no_grad()
    def test_accuracy() -> float:
        student.eval()
        right = 0
        for i in range(0, len(test_x), val_batch):
            logits = student(norm(test_x[i:i + val_batch]), mode='tensor')
            right += int((logits.argmax(1) ==
                          test_y[i:i + val_batch]).sum())
        student.train()
        return 100.0 * right / len(test_x)

    def rmsprop(params) -> torch.optim.Optimizer:
        return torch.optim.RMSprop(params, lr=5e-4, alpha=0.9, eps=1e-5)

    tau = float(cfg.model.distiller.distill_losses.loss_kd.tau)
    setup = time.perf_counter() - t0
    student.train()
    accuracies: List[float] = []
    # stage 1: hints, best hint-validation weights kept
    opt = rmsprop(list(student.parameters()) + list(regressor.parameters()))
    best, best_state = float('inf'), None
    for _ in range(args.hint_epochs):
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            loss = hint_cost(norm(train_x[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            max_norm()
        with torch.no_grad():
            cost = sum(float(hint_cost(norm(hint_x[i:i + val_batch]))) *
                       len(hint_x[i:i + val_batch])
                       for i in range(0, len(hint_x), val_batch))
        if cost < best:
            best = cost
            best_state = (copy.deepcopy(student.state_dict()),
                          copy.deepcopy(regressor.state_dict()))
        accuracies.append(test_accuracy())
    if best_state is not None:
        student.load_state_dict(best_state[0])
        regressor.load_state_dict(best_state[1])
    # stage 2: CE + lambda KD, lambda 4 for 5 epochs, then linear to 0 at
    # KD epoch 150 (the config's LossWeightScheduleHook)
    opt = rmsprop(student.parameters())
    for epoch in range(args.epochs - args.hint_epochs):
        lam = 4.0 if epoch < 5 else 4.0 * max(0.0, 1 - (epoch - 5) / 145)
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            x = norm(train_x[idx])
            with torch.no_grad():
                t_logits = teacher(x, mode='tensor')
            s_logits = student(x, mode='tensor')
            soft = -(F.softmax(t_logits / tau, 1) *
                     F.log_softmax(s_logits / tau, 1)).sum(1).mean()
            loss = F.cross_entropy(s_logits, train_y[idx]) + lam * soft
            opt.zero_grad()
            loss.backward()
            opt.step()
            max_norm()
        accuracies.append(test_accuracy())
    torch.save(student.state_dict(),
               os.path.join(os.path.dirname(leaf), 'floor_student.pth'))
    return dict(accuracy=accuracies[-1], setup=setup,
                train=time.perf_counter() - t0 - setup)


# -------------------------------------------------------------- measuring
def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(kind: str, leaf: str, work_dir: str,
        args: argparse.Namespace) -> dict:
    """One run in its own process: wall, CPU and what it reports."""
    from phase_timer import START_ENV
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads), PYTHONWARNINGS='ignore')
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, REPO] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep)
                        if p])
    if kind == 'product':
        cmd = [sys.executable, os.path.join(REPO, 'tools', 'train.py'),
               leaf, '--work-dir', work_dir]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), '--floor-worker',
               leaf, '--data', args.data, '--epochs', str(args.epochs),
               '--hint-epochs', str(args.hint_epochs), '--train-digits',
               str(args.train_digits), '--threads', str(args.threads)]
    os.makedirs(work_dir, exist_ok=True)
    cpu0 = _child_cpu()
    t0 = time.time()
    env[START_ENV] = repr(t0)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True)
    wall = time.time() - t0
    cpu = _child_cpu() - cpu0
    log = proc.stdout + proc.stderr
    with open(os.path.join(work_dir, f'{kind}_output.log'), 'w') as f:
        f.write(log)
    if proc.returncode != 0:
        raise RuntimeError(f'{kind} failed ({proc.returncode}):\n' +
                           log[-4000:])
    out = dict(kind=kind, wall=wall, cpu=cpu)
    if kind == 'product':
        with open(os.path.join(work_dir, 'phase_times.json')) as f:
            out['phases'] = json.load(f)
        found = re.findall(r'Epoch\(val\) \[\d+\]\[\d+/\d+\]\s+'
                           r'accuracy/top1: ([\d.]+)', log)
        out['accuracy'] = float(found[-1]) if found else float('nan')
    else:
        out.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def report(runs: List[dict], args: argparse.Namespace, wall: float,
           load: str) -> str:
    by = {k: [r for r in runs if r['kind'] == k] for k in KINDS}
    per_round = list(zip(by['product'], by['floor'], by['floor_copy']))

    def med(values: List[float]) -> str:
        return (f'{statistics.median(values):.3f} [{min(values):.3f}, '
                f'{max(values):.3f}]')

    lines = [
        f'{args.epochs} epochs ({args.hint_epochs} of them stage 1) on '
        f'{args.train_digits} digits, batch 128, {args.threads} torch '
        f'thread(s), {args.rounds} round(s) of product, floor and floor copy '
        '(interleaved), CPU only; no teacher-output cache (every stage-2 '
        'step runs the teacher).',
        '',
        '| run | wall s | CPU s (with loader workers) | test accuracy % |',
        '|---|---:|---:|---:|',
    ]
    for kind in KINDS:
        for r in by[kind]:
            lines.append(f"| {kind} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                         f"{r['accuracy']:.2f} |")
    lines += [
        '',
        '| ratio, per round: median [min, max] | wall | CPU | target |',
        '|---|---:|---:|---:|',
        '| product / floor | ' + med([p['wall'] / f['wall']
                                     for p, f, _ in per_round]) + ' | '
        + med([p['cpu'] / f['cpu'] for p, f, _ in per_round])
        + ' | <= 1.15 |',
        '| noise: floor copy / floor | ' + med(
            [c['wall'] / f['wall'] for _, f, c in per_round]) + ' | ' + med(
            [c['cpu'] / f['cpu'] for _, f, c in per_round]) + ' | - |',
    ]
    phases = [r['phases'] for r in by['product']]
    total = statistics.median(r['wall'] for r in by['product'])
    lines += ['', "The product's run, by phase (main process; median over "
              f'rounds; {phases[0]["iters"]} training iterations):', '',
              '| phase | wall s | share of the run | CPU s |',
              '|---|---:|---:|---:|']
    from phase_timer import PHASES
    accounted = 0.0
    for phase in PHASES:
        w = statistics.median(p['wall'][phase] for p in phases)
        c = statistics.median(p['cpu'][phase] for p in phases)
        accounted += w
        lines.append(f'| {phase} | {w:.1f} | {w / total:.1%} | {c:.1f} |')
    lines.append(f'| process exit (wall minus the above) | '
                 f'{total - accounted:.1f} | {(total - accounted) / total:.1%}'
                 ' | - |')
    floor_setup = statistics.median(r['setup'] for r in by['floor'])
    floor_train = statistics.median(r['train'] for r in by['floor'])
    lines += ['', f'The floor: {floor_setup:.1f} s from its start to the '
              f'first step (after the interpreter and imports), '
              f'{floor_train:.1f} s of training and validation.', '',
              f'Wall time of the benchmark {wall:.0f} s; load average at '
              f'start {load}, at end {open("/proc/loadavg").read().strip()}.']
    return '\n'.join(lines) + '\n'


def machine_info() -> str:
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True, timeout=10).stdout.strip()

    import torch
    return '\n'.join([sh('lscpu | head -n 15'), f'uptime: {sh("uptime")}',
                      f'torch {torch.__version__}, python '
                      f'{platform.python_version()}'])


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    args.data = os.path.abspath(args.data)
    if args.floor_worker:
        print(json.dumps(floor_run(args.floor_worker, args)))
        return ''
    sys.path.insert(0, HERE)
    t_start = time.time()
    load = open('/proc/loadavg').read().strip()
    out = os.path.abspath(args.out)
    ensure_data(args.data, args.train_digits + HINT_VAL)
    ckpt = args.teacher_ckpt or initial_teacher(
        os.path.join(out, 'teacher_init.pth'))
    leaf = os.path.join(out, 'leaf', 'fitnets_time_to_student.py')
    os.makedirs(os.path.dirname(leaf), exist_ok=True)
    with open(leaf, 'w') as f:
        f.write(leaf_config(args, os.path.abspath(ckpt)))
    runs: List[dict] = []
    for r in range(args.rounds):
        order = list(KINDS) if r % 2 == 0 else list(KINDS)[::-1]
        for kind in order:
            result = run(kind, leaf, os.path.join(out, f'{kind}_{r}'), args)
            print(f"{kind}: {result['wall']:.1f} s wall, "
                  f"{result['cpu']:.1f} s CPU, "
                  f"{result['accuracy']:.2f} %", flush=True)
            runs.append(result)
    text = report(runs, args, time.time() - t_start, load)
    print(text)
    if args.results:
        cmd = 'python benchmarks/time_to_student.py ' + ' '.join(
            sys.argv[1:] if argv is None else argv)
        with open(args.results, 'w') as f:
            f.write('# Time to a trained student (MNIST paper pair)\n\n'
                    f'Command: `{cmd}`. No GPU on this machine.\n\n' + text +
                    '\nMachine:\n\n```\n' + machine_info() + '\n```\n')
    return text


if __name__ == '__main__':
    main()

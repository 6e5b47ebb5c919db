"""Speed and memory of one training step on the CIFAR-10 main pair.

Four ways of doing a training step of the pair in ``configs/fitnet_cifar10.py``
(student ResNet-50 thin, teacher MMPretrain ResNet-34; random inputs, no
teacher checkpoint), timed in INTERLEAVED rounds (A B C D, A B C D, ...) so
that load from other processes falls on all of them alike:

* ``floor``: a hand-written PyTorch loop, the work any implementation must
  do: normalise, teacher forward under ``no_grad``, student forward,
  ``CE(y, P_S) + lambda * H(P_T^tau, P_S^tau)``, backward, SGD step.
* ``stage2``: ``FitNetsDistill.train_step`` in the ``'kd'`` stage, as the
  Runner calls it (mmengine ``OptimWrapper``).
* ``stage1``: ``FitNetsDistill.train_step`` in the ``'hint'`` stage
  (truncated forwards up to layer2, regressor, hint loss).
* ``mmrazor_joint``: MMRazor's stock joint FitNets: ``SingleTeacherDistill``
  with a ``ConfigurableDistiller`` recording ``backbone.layer2`` and
  ``head.fc`` of the full networks, a ``ConvModuleConnector`` (BN) on the
  student feature + ``L2Loss``, plus logits KD, as its published
  ``fitnets_backbone_logits_*`` config.

Peak memory: each variant runs again in its own forked child process, which
builds its model, reads its resident set (``VmRSS``), runs a few steps and
reports ``ru_maxrss - VmRSS_after_build``.

    python benchmarks/step_speed.py                 # full: batch 128
    python benchmarks/step_speed.py --quick         # smoke test
"""
import argparse
import copy
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, 'configs', 'fitnet_cifar10.py')
VARIANTS = ('floor', 'stage2', 'stage1', 'mmrazor_joint')
LABELS = {
    'floor': '(a) floor: hand-written PyTorch KD step',
    'stage2': '(b) fitnets_mm stage 2 (KD), train_step',
    'stage1': '(c) fitnets_mm stage 1 (hints), train_step',
    'mmrazor_joint': '(d) MMRazor stock joint FitNets, train_step',
}
TAU = 3.0
LAMBDA = 4.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='tiny settings for a smoke test')
    parser.add_argument('--batch', type=int, default=None,
                        help='batch size (default 128, quick 4)')
    parser.add_argument('--steps', type=int, default=None,
                        help='timed steps per variant (default 8, quick 2)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed steps per variant (default 2, quick 1)')
    parser.add_argument('--mem-steps', type=int, default=None,
                        help='steps per memory child (default 2, quick 1)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (1 was fastest on the shared '
                        '2-core machine)')
    parser.add_argument('--out', default=None,
                        help='markdown file to write (default '
                        'benchmarks/results/step_speed.md; quick: none)')
    args = parser.parse_args()
    quick = args.quick
    args.batch = args.batch or (4 if quick else 128)
    args.steps = args.steps or (2 if quick else 8)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick
                                                               else 2)
    args.mem_steps = args.mem_steps or (1 if quick else 2)
    if args.out is None and not quick:
        args.out = os.path.join(REPO, 'benchmarks', 'results',
                                'step_speed.md')
    return args


# ------------------------------------------------------------------ models
_CFG: dict = {}


def _model_cfg() -> dict:
    """The model dict of the main config (parsed once, then copied)."""
    if _CFG:
        return copy.deepcopy(_CFG)
    import fitnets_mm  # noqa: F401  (registers our modules)
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    model = copy.deepcopy(cfg.model.to_dict() if hasattr(
        cfg.model, 'to_dict') else dict(cfg.model))
    model['teacher_ckpt'] = None
    _CFG.update(model)
    return copy.deepcopy(model)


def build_fitnets():
    """The main-config ``FitNetsDistill`` with no teacher checkpoint."""
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    init_default_scope('mmrazor')
    model = MODELS.build(_model_cfg())
    model.init_weights()
    return model


def build_mmrazor_joint():
    """MMRazor's stock joint FitNets on the same pair."""
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    init_default_scope('mmrazor')
    fit = _model_cfg()
    cfg = dict(
        type='SingleTeacherDistill',
        data_preprocessor=None,
        architecture=fit['architecture'],
        teacher=fit['teacher'],
        teacher_ckpt=None,
        distiller=dict(
            type='ConfigurableDistiller',
            student_recorders=dict(
                bb=dict(type='ModuleOutputs', source='backbone.layer2'),
                fc=dict(type='ModuleOutputs', source='head.fc')),
            teacher_recorders=dict(
                bb=dict(type='ModuleOutputs', source='backbone.layer2'),
                fc=dict(type='ModuleOutputs', source='head.fc')),
            distill_losses=dict(
                loss_hint=dict(type='L2Loss', loss_weight=1.0),
                loss_kd=dict(
                    type='KDSoftCELoss',
                    tau=TAU,
                    mult_tem_square=False,
                    loss_weight=LAMBDA)),
            connectors=dict(
                hint_sfeat=dict(
                    type='ConvModuleConnector',
                    in_channel=256,
                    out_channel=128,
                    norm_cfg=dict(type='BN'))),
            loss_forward_mappings=dict(
                loss_hint=dict(
                    s_feature=dict(
                        from_student=True, recorder='bb',
                        connector='hint_sfeat'),
                    t_feature=dict(from_student=False, recorder='bb')),
                loss_kd=dict(
                    preds_S=dict(from_student=True, recorder='fc'),
                    preds_T=dict(from_student=False, recorder='fc')))))
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def make_batch(batch: int, seed: int = 0) -> dict:
    """A random CIFAR-sized batch as a dataloader would give it."""
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (batch, 3, 32, 32), generator=gen,
                           dtype=torch.uint8)
    labels = torch.randint(0, 10, (batch, ), generator=gen)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return dict(inputs=inputs, data_samples=samples)


def _sgd(params) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=1e-3, momentum=0.9, weight_decay=5e-4)


def make_step(name: str, batch: int) -> Callable[[], float]:
    """Build the models of one variant; return a function doing one step
    and returning its loss."""
    from mmengine.optim import OptimWrapper
    data = make_batch(batch)
    if name == 'floor':
        algo = build_fitnets()
        student, teacher = algo.student, algo.teacher
        del algo
        student.train()
        teacher.eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        pre = student.data_preprocessor
        mean, std = pre.mean.clone(), pre.std.clone()
        labels = torch.tensor([int(s.gt_label) for s in data['data_samples']])
        inputs = data['inputs']
        opt = _sgd(student.parameters())

        def logits_of(net, x):
            return net.head.fc(net.neck(net.backbone(x))[-1])

        def step() -> float:
            x = (inputs.float() - mean) / std
            with torch.no_grad():
                t_logits = logits_of(teacher, x)
            s_logits = logits_of(student, x)
            soft = -(F.softmax(t_logits / TAU, 1) *
                     F.log_softmax(s_logits / TAU, 1)).sum(1).mean()
            loss = F.cross_entropy(s_logits, labels) + LAMBDA * soft
            opt.zero_grad()
            loss.backward()
            opt.step()
            return float(loss.detach())

        return step
    if name == 'mmrazor_joint':
        model = build_mmrazor_joint()
        params = list(model.student.parameters()) + list(
            model.distiller.parameters())
    else:
        model = build_fitnets()
        model.set_stage('kd' if name == 'stage2' else 'hint')
        params = list(model.student.parameters()) + list(
            model.regressors.parameters())
    model.train()
    wrapper = OptimWrapper(_sgd(params))

    def step() -> float:
        log_vars = model.train_step(data, wrapper)
        return float(log_vars['loss'].detach())

    return step


# --------------------------------------------------------------- measuring
def time_interleaved(steps: Dict[str, Callable[[], float]], rounds: int,
                     warmup: int) -> Dict[str, List[float]]:
    """Warm each variant up, then time one step of each per round."""
    for _ in range(warmup):
        for fn in steps.values():
            fn()
    times: Dict[str, List[float]] = {k: [] for k in steps}
    for r in range(rounds):
        order = list(steps)
        if r % 2:  # alternate direction: ABCD DCBA ... against drift
            order.reverse()
        for name in order:
            t0 = time.perf_counter()
            loss = steps[name]()
            times[name].append(time.perf_counter() - t0)
            if loss != loss:  # NaN
                raise FloatingPointError(f'{name}: loss is NaN')
    return times


def _vm_rss_kib() -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def _mem_child(name: str, batch: int, steps: int, threads: int,
               queue: 'mp.Queue') -> None:
    try:
        torch.set_num_threads(threads)
        fn = make_step(name, batch)
        base = _vm_rss_kib()
        for _ in range(steps):
            fn()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        queue.put((name, (peak - base) / 1024.0, base / 1024.0))
    except BaseException as err:  # report, never hang the parent
        queue.put((name, float('nan'), repr(err)))


def peak_memory(names, batch: int, steps: int,
                threads: int) -> Dict[str, Tuple[float, float]]:
    """Peak RSS above the post-build RSS (MiB), one forked child each.

    The children run at the same time (each has its own ``ru_maxrss``), which
    shortens the wall time on a loaded machine.
    """
    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_mem_child,
                    args=(name, batch, steps, threads, queue))
        for name in names
    ]
    for proc in procs:
        proc.start()
    out = {}
    for _ in names:
        name, delta, base = queue.get()
        if isinstance(base, str):
            raise RuntimeError(f'memory child {name} failed: {base}')
        out[name] = (delta, base)
    for proc in procs:
        proc.join()
    return out


def machine_info() -> str:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        except Exception as err:  # pragma: no cover
            return repr(err)

    return '\n'.join([
        f'nproc: {sh("nproc")}',
        sh('lscpu | head -n 15'),
        f'torch {torch.__version__}, python {platform.python_version()}, '
        f'torch threads {torch.get_num_threads()}',
        f'load average at end: {sh("cat /proc/loadavg")}',
    ])


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t_start = time.time()
    load_start = open('/proc/loadavg').read().strip()
    _model_cfg()  # parse once; children inherit it
    # Memory first: the children fork from a parent holding no model.
    mem = peak_memory(VARIANTS, args.batch, args.mem_steps, args.threads)
    steps = {name: make_step(name, args.batch) for name in VARIANTS}
    times = time_interleaved(steps, args.steps, args.warmup)
    med = {k: statistics.median(v) for k, v in times.items()}
    # Ratios within each round (all variants under the same load), then
    # their median: robust to load that changes between rounds.
    per_round = {
        (k, ref): statistics.median(
            a / b for a, b in zip(times[k], times[ref]))
        for k in VARIANTS for ref in ('floor', 'mmrazor_joint')
    }

    cmd = 'python benchmarks/step_speed.py ' + ' '.join(sys.argv[1:])
    lines = [
        f'Batch {args.batch}, {args.warmup} warm-up + {args.steps} timed '
        f'steps per variant in interleaved rounds, {args.threads} torch '
        f'thread(s), CPU.',
        '',
        '| variant | median s/step | min s/step | images/s | vs floor '
        '| vs (d) MMRazor joint | vs floor, per round '
        '| vs (d), per round | peak RSS above model (MiB) '
        '| memory vs stage 2 |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for name in VARIANTS:
        lines.append(
            f'| {LABELS[name]} | {med[name]:.3f} | {min(times[name]):.3f} '
            f'| {args.batch / med[name]:.1f} '
            f'| {med[name] / med["floor"]:.2f} '
            f'| {med[name] / med["mmrazor_joint"]:.2f} '
            f'| {per_round[name, "floor"]:.2f} '
            f'| {per_round[name, "mmrazor_joint"]:.2f} '
            f'| {mem[name][0]:.0f} '
            f'| {mem[name][0] / mem["stage2"][0]:.2f} |')
    s2 = med['stage2'] / med['floor']
    s1 = med['mmrazor_joint'] / med['stage1']
    s2r = per_round['stage2', 'floor']
    s1r = 1.0 / per_round['stage1', 'mmrazor_joint']
    m1 = mem['stage1'][0] / mem['stage2'][0]
    lines += [
        '',
        '| target | measured | met |',
        '|---|---:|:---:|',
        f'| stage 2 <= 1.05 x floor (ratio of medians) | {s2:.3f} x | '
        f'{"yes" if s2 <= 1.05 else "NO"} |',
        f'| stage 2 <= 1.05 x floor (median per-round ratio) | {s2r:.3f} x '
        f'| {"yes" if s2r <= 1.05 else "NO"} |',
        f'| stage 1 >= 1.5 x faster than (d) (ratio of medians) '
        f'| {s1:.2f} x | {"yes" if s1 >= 1.5 else "NO"} |',
        f'| stage 1 >= 1.5 x faster than (d) (median per-round ratio) '
        f'| {s1r:.2f} x | {"yes" if s1r >= 1.5 else "NO"} |',
        f'| stage 1 peak memory <= 0.7 x full step (stage 2) | {m1:.2f} x | '
        f'{"yes" if m1 <= 0.7 else "NO"} |',
    ]
    table = '\n'.join(lines)
    print(table)
    wall = time.time() - t_start
    print(f'\nwall time {wall:.0f} s; load average at start {load_start}')
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write('# Training-step speed on the CIFAR-10 main pair\n\n')
            f.write(f'Command: `{cmd}` (wall time {wall:.0f} s)\n\n')
            f.write(table + '\n\n')
            f.write('All step times (s):\n\n')
            for name in VARIANTS:
                f.write(f'- {name}: ' + ', '.join(
                    f'{t:.3f}' for t in times[name]) + '\n')
            f.write(f'\nLoad average at start: {load_start}\n\n')
            f.write('Machine:\n\n```\n' + machine_info() + '\n```\n')


if __name__ == '__main__':
    main()

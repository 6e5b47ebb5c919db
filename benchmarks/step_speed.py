"""Speed and memory of one training step on the CIFAR-10 main pair.

Ways of doing a training step of the pair in ``configs/fitnet_cifar10.py``
(student ResNet-50 thin, teacher MMPretrain ResNet-34; random inputs, no
teacher checkpoint), as that config builds it (3x3 regressor + ReLU,
channels_last inputs) unless said otherwise, timed in INTERLEAVED rounds (A B C ..., ... C B A) so
that load from other processes falls on all of them alike, and compared
within each round:

* ``floor``: a hand-written PyTorch loop, the work any implementation must
  do: normalise (to channels_last, as the config's data preprocessor; NCHW
  with ``--layout nchw``), teacher forward under ``no_grad``, student
  forward,
  ``CE(y, P_S) + lambda * H(P_T^tau, P_S^tau)``, backward, SGD step.
* ``floor_copy``: a second, identical copy of the floor: the noise control.
  Their per-round ratio shows how large a difference must be to count.
* ``floor_hint``: the hand-written truncated stage 1: both networks' stems,
  ``layer1`` and ``layer2`` called by hand, the regressor, ``L_HT``.
* ``stage2`` / ``stage1``: ``FitNetsDistill.train_step`` in the ``'kd'`` /
  ``'hint'`` stage, as the Runner calls it (mmengine ``OptimWrapper``).
* ``stage2_nchw`` / ``stage1_nchw``: the same with the config's opt-out
  ``channels_last=False`` in the data preprocessor (NCHW convolutions).
* ``stage1_k1``: stage 1 with a 1x1 regressor (the paper's rule
  ``N_g - k + 1 = N_h`` for the pair's equal 16 x 16 maps) instead of the
  config's 3x3.
* ``td_stage2`` / ``td_stage1``: torchdistill's stage-wise FitNet
  (``DistillationBox`` built from a training config as in its FitNet
  samples: stage 1 with ``sequential`` truncated networks up to ``layer2``,
  the regressor as an adaptation module and a sum-MSE hint loss; stage 2
  with ``KDLoss``) on the SAME module objects; one step is
  ``forward_process`` + ``post_forward_process``, as in its training loop.
  Needs ``pip install -e ".[benchmark]"``; left out if missing.
* ``mmrazor_joint``: MMRazor's stock joint FitNets: ``SingleTeacherDistill``
  with a ``ConfigurableDistiller`` recording ``backbone.layer2`` and
  ``head.fc`` of the full networks, a ``ConvModuleConnector`` (BN) on the
  student feature + ``L2Loss``, plus logits KD, as its published
  ``fitnets_backbone_logits_*`` config.
* with ``--compile``: ``stage2_compiled`` / ``stage1_compiled``:
  ``torch.compile(model.train_step)`` with inductor's layout optimisation
  off, what mmengine's ``compile=dict(options=dict(layout_optimization=
  False))`` does (first steps compile; they are the warm-up).

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
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, 'configs', 'fitnet_cifar10.py')
VARIANTS = ('floor', 'floor_copy', 'stage2', 'stage2_nchw', 'td_stage2',
            'floor_hint', 'stage1', 'stage1_nchw', 'stage1_k1', 'td_stage1',
            'mmrazor_joint')
COMPILED = ('stage2_compiled', 'stage1_compiled')
#: Inductor's options for the compiled variants: its channels_last layout
#: optimisation corrupts the heap in the backward of the CPU convolutions on
#: torch 2.14.1 (README, "channels_last and torch.compile").
COMPILE_OPTIONS = dict(layout_optimization=False)
LABELS = {
    'floor': '(a) floor: hand-written PyTorch KD step',
    'floor_copy': '(a2) floor, second copy (noise control)',
    'stage2': '(b) fitnets_mm stage 2 (KD), train_step',
    'stage2_nchw': '(b-nchw) fitnets_mm stage 2, channels_last=False',
    'td_stage2': '(b-td) torchdistill stage 2 (KDLoss)',
    'floor_hint': '(e) floor: hand-written truncated stage 1',
    'stage1': '(c) fitnets_mm stage 1 (hints), train_step',
    'stage1_nchw': '(c-nchw) fitnets_mm stage 1, channels_last=False',
    'stage1_k1': '(c-k1) fitnets_mm stage 1, 1x1 regressor',
    'td_stage1': '(c-td) torchdistill stage 1 (sequential + MSE)',
    'mmrazor_joint': '(d) MMRazor stock joint FitNets, train_step',
    'stage2_compiled': '(b-c) fitnets_mm stage 2, torch.compile',
    'stage1_compiled': '(c-c) fitnets_mm stage 1, torch.compile',
}
TAU = 3.0
LAMBDA = 4.0
# The regressor's settings that --kernel overrides (empty: the config's 3x3).
# The paper's rule N_g - k + 1 = N_h gives k = 1 for the main pair's equal
# 16 x 16 maps; the stage1_k1 variant measures it.
REGRESSOR: dict = {}
# The floors' memory format (set by --layout): the config's channels_last.
LAYOUT = {'channels_last': True}


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
    parser.add_argument('--variants', default=None,
                        help='comma-separated subset of the variants')
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile(train_step) (inductor)')
    parser.add_argument('--kernel', type=int, default=None,
                        help="the regressor's kernel (default: the config's, "
                        '3; stage1_k1 always uses 1)')
    parser.add_argument('--layout', choices=('channels_last', 'nchw'),
                        default='channels_last',
                        help="the floors' and the default variants' layout "
                        "(default: the config's channels_last)")
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the peak-memory children')
    parser.add_argument('--out', default=None,
                        help='markdown file to write (default '
                        'benchmarks/results/step_speed.md; quick: none)')
    args = parser.parse_args()
    names = list(VARIANTS) + (list(COMPILED) if args.compile else [])
    if args.variants:
        names = [v.strip() for v in args.variants.split(',') if v.strip()]
        unknown = set(names) - set(LABELS)
        if unknown:
            parser.error(f'unknown variants {sorted(unknown)}; expected some '
                         f'of {list(LABELS)}')
    if not torchdistill_available():
        names = [n for n in names if not n.startswith('td_')]
    args.names = names
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


def build_fitnets(channels_last: Optional[bool] = None,
                  kernel: Optional[int] = None):
    """The main-config ``FitNetsDistill`` with no teacher checkpoint.

    Args:
        channels_last (bool, optional): The data preprocessor's
            ``channels_last``; None: ``--layout``'s. Defaults to None.
        kernel (int, optional): The regressor's kernel; None: the config's
            (or ``--kernel``'s). Defaults to None.
    """
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    init_default_scope('mmrazor')
    cfg = _model_cfg()
    for hint in cfg['hints']:
        hint.setdefault('regressor', {}).update(REGRESSOR)
        if kernel is not None:
            hint['regressor']['kernel_size'] = kernel
    if channels_last is None:
        channels_last = LAYOUT['channels_last']
    cfg['architecture']['data_preprocessor']['channels_last'] = channels_last
    model = MODELS.build(cfg)
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


def torchdistill_available() -> bool:
    try:
        import torchdistill  # noqa: F401
    except ImportError:
        return False
    return True


def _floor_parts(batch: int):
    """Student, teacher (frozen, eval), regressor, normalised-input maker and
    labels, all taken from the main-config model."""
    algo = build_fitnets()
    student, teacher, regressor = algo.student, algo.teacher, \
        algo.regressors[0]
    student.train()
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    data = make_batch(batch)
    pre = student.data_preprocessor
    mean, std = pre.mean.clone(), pre.std.clone()
    inputs = data['inputs']
    labels = torch.tensor([int(s.gt_label) for s in data['data_samples']])

    fmt = (torch.channels_last
           if LAYOUT['channels_last'] else torch.contiguous_format)

    def normalised() -> torch.Tensor:
        return ((inputs.float() - mean) / std).contiguous(memory_format=fmt)

    return student, teacher, regressor, normalised, labels


def _upto_layer2(net, x: torch.Tensor) -> torch.Tensor:
    b = net.backbone
    return b.layer2(b.layer1(b.relu(b.norm1(b.conv1(x)))))


STEM_TO_LAYER2 = ['backbone.conv1', 'backbone.bn1', 'backbone.relu',
                  'backbone.layer1', 'backbone.layer2']


def make_torchdistill_step(stage: int, batch: int) -> Callable[[], float]:
    """torchdistill's stage-wise FitNet on the main pair's modules."""
    from torchdistill.core.distillation import DistillationBox
    from torchdistill.models.registry import (ADAPTATION_MODULE_DICT,
                                              register_adaptation_module)
    student, teacher, regressor, normalised, labels = _floor_parts(batch)
    if stage == 1:
        if 'FitNetsRegressor' not in ADAPTATION_MODULE_DICT:

            @register_adaptation_module(key='FitNetsRegressor')
            def _regressor(module):  # the same module object
                return module

        models = dict(
            teacher=dict(sequential=list(STEM_TO_LAYER2),
                         forward_proc='forward_batch_only',
                         requires_grad=False),
            student=dict(
                sequential=list(STEM_TO_LAYER2) + ['+regressor'],
                forward_proc='forward_batch_only',
                adaptations=dict(regressor=dict(
                    key='FitNetsRegressor',
                    kwargs=dict(module=regressor)))))
        # L_HT = 1/2 sum (u_h - r(v_g))^2 / N
        criterion = dict(key='WeightedSumLoss', kwargs=dict(sub_terms=dict(
            hint=dict(
                criterion=dict(key='MSELoss', kwargs=dict(reduction='sum')),
                criterion_wrapper=dict(key='SimpleLossWrapper', kwargs=dict(
                    input=dict(is_from_teacher=False, module_path='.',
                               io='output'),
                    target=dict(is_from_teacher=True, module_path='.',
                                io='output'))),
                weight=0.5 / batch))))
    else:
        models = dict(
            teacher=dict(forward_proc='forward_batch_only',
                         requires_grad=False),
            student=dict(forward_proc='forward_batch_only'))
        # alpha CE + beta T^2 KL = CE + lambda KL: the floor's gradient
        criterion = dict(key='WeightedSumLoss', kwargs=dict(sub_terms=dict(
            kd=dict(criterion=dict(key='KDLoss', kwargs=dict(
                student_module_path='.', student_module_io='output',
                teacher_module_path='.', teacher_module_io='output',
                temperature=TAU, alpha=1.0, beta=LAMBDA / TAU**2)),
                weight=1.0))))
    train_config = dict(
        num_epochs=1,
        optimizer=dict(key='SGD', kwargs=dict(lr=1e-3, momentum=0.9,
                                              weight_decay=5e-4)),
        criterion=criterion, **models)
    box = DistillationBox(teacher, student, {}, train_config,
                          torch.device('cpu'), None, False, 1)
    box.teacher_model.eval()
    box.student_model.train()

    def step() -> float:
        loss = box.forward_process(normalised(), labels, {})
        box.post_forward_process(loss)
        return float(loss.detach())

    return step


def make_step(name: str, batch: int) -> Callable[[], float]:
    """Build the models of one variant; return a function doing one step
    and returning its loss."""
    from mmengine.optim import OptimWrapper
    if name in ('floor', 'floor_copy', 'floor_hint'):
        student, teacher, regressor, normalised, labels = _floor_parts(batch)
        if name == 'floor_hint':
            opt = _sgd(list(student.parameters()) +
                       list(regressor.parameters()))

            def step() -> float:
                x = normalised()
                with torch.no_grad():
                    hint = _upto_layer2(teacher, x)
                guided = regressor(_upto_layer2(student, x))
                loss = 0.5 * (guided - hint).pow(2).sum() / x.shape[0]
                opt.zero_grad()
                loss.backward()
                opt.step()
                return float(loss.detach())

            return step
        opt = _sgd(student.parameters())

        def logits_of(net, x):
            return net.head.fc(net.neck(net.backbone(x))[-1])

        def step() -> float:
            x = normalised()
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
    if name.startswith('td_'):
        return make_torchdistill_step(1 if name == 'td_stage1' else 2, batch)
    data = make_batch(batch)
    if name == 'mmrazor_joint':
        model = build_mmrazor_joint()
        params = list(model.student.parameters()) + list(
            model.distiller.parameters())
    else:
        model = build_fitnets(
            channels_last=False if name.endswith('_nchw') else None,
            kernel=1 if name.endswith('_k1') else None)
        model.set_stage('kd' if name.startswith('stage2') else 'hint')
        params = list(model.student.parameters()) + list(
            model.regressors.parameters())
    model.train()
    wrapper = OptimWrapper(_sgd(params))
    train_step = model.train_step
    if name.endswith('_compiled'):
        train_step = torch.compile(model.train_step, options=COMPILE_OPTIONS)

    def step() -> float:
        log_vars = train_step(data, wrapper)
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


def peak_memory(names, batch: int, steps: int, threads: int,
                parallel: int = 2) -> Dict[str, Tuple[float, float]]:
    """Peak RSS above the post-build RSS (MiB), one forked child each,
    ``parallel`` at a time (each has its own ``ru_maxrss``)."""
    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    out: Dict[str, Tuple[float, float]] = {}
    names = list(names)
    for i in range(0, len(names), parallel):
        group = names[i:i + parallel]
        procs = [
            ctx.Process(target=_mem_child,
                        args=(name, batch, steps, threads, queue))
            for name in group
        ]
        for proc in procs:
            proc.start()
        for _ in group:
            name, delta, base = queue.get()
            if isinstance(base, str):
                raise RuntimeError(f'memory child {name} failed: {base}')
            out[name] = (delta, base)
        for proc in procs:
            proc.join()
    return out


def profile_step(fn: Callable[[], float], rows: int = 12) -> str:
    """The torch profiler's top operators (self CPU time) of one step."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return prof.key_averages().table(sort_by='self_cpu_time_total',
                                     row_limit=rows)


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


MEMORY_VARIANTS = ('floor', 'floor_hint', 'stage2', 'stage1', 'stage1_k1',
                   'mmrazor_joint', 'td_stage2', 'td_stage1')


def ratios(times: Dict[str, List[float]], name: str,
           ref: str) -> List[float]:
    """Per-round ratios of step times, ``name`` over ``ref``."""
    return [a / b for a, b in zip(times[name], times[ref])]


def summary(values: List[float]) -> str:
    return (f'{statistics.median(values):.3f} '
            f'[{min(values):.3f}, {max(values):.3f}]')


def main() -> None:
    args = parse_args()
    if args.kernel is not None:
        REGRESSOR['kernel_size'] = args.kernel
    LAYOUT['channels_last'] = args.layout == 'channels_last'
    kernel = args.kernel or _model_cfg()['hints'][0]['regressor'].get(
        'kernel_size', 1)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t_start = time.time()
    load_start = open('/proc/loadavg').read().strip()
    names = args.names
    _model_cfg()  # parse once; children inherit it
    # Memory first: the children fork from a parent holding no model.
    mem = {} if args.no_memory else peak_memory(
        [n for n in MEMORY_VARIANTS if n in names], args.batch,
        args.mem_steps, args.threads)
    steps = {name: make_step(name, args.batch) for name in names}
    times = time_interleaved(steps, args.steps, args.warmup)
    med = {k: statistics.median(v) for k, v in times.items()}
    # stage-1 variants against the hand-written truncated stage 1, the
    # others against the floor
    ref_of = {n: 'floor_hint' if 'stage1' in n else 'floor' for n in names}
    cmd = 'python benchmarks/step_speed.py ' + ' '.join(sys.argv[1:])
    lines = [
        f'Batch {args.batch}, {args.warmup} warm-up + {args.steps} timed '
        f'steps per variant in interleaved rounds, {args.threads} torch '
        f'thread(s), CPU, {kernel}x{kernel} regressor (the config\'s '
        f'is 3x3), {args.layout} layout (the config\'s is channels_last). '
        'Ratios are step times (lower is faster) within each round: median '
        '[min, max] over the rounds.',
        '',
        '| variant | median s/step | images/s | reference '
        '| vs reference, per round | peak RSS above model (MiB) |',
        '|---|---:|---:|---|---:|---:|',
    ]
    for name in names:
        ref = ref_of[name] if ref_of[name] in names else name
        memory = f'{mem[name][0]:.0f}' if name in mem else '-'
        lines.append(
            f'| {LABELS[name]} | {med[name]:.3f} '
            f'| {args.batch / med[name]:.1f} | {ref} '
            f'| {summary(ratios(times, name, ref))} | {memory} |')

    targets = []  # (label, values or value, limit, 'le' or 'ge', pair)

    def add(label: str, name: str, ref: str, limit: float, sense: str,
            invert: bool = False) -> None:
        if name in names and ref in names:
            vals = ratios(times, name, ref)
            if invert:
                vals = [1.0 / v for v in vals]
            targets.append((label, vals, limit, sense, (name, ref)))

    add('noise: floor copy / floor', 'floor_copy', 'floor', None, None)
    add('stage 2 / floor', 'stage2', 'floor', 1.03, 'le')
    add('stage 1 / hand-written truncated stage 1', 'stage1', 'floor_hint',
        1.03, 'le')
    add('stage 1 speed-up over MMRazor joint (joint / stage 1)', 'stage1',
        'mmrazor_joint', 1.6, 'ge', invert=True)
    add('stage 2 / torchdistill stage 2', 'stage2', 'td_stage2', 1.0, 'le')
    add('stage 1 / torchdistill stage 1', 'stage1', 'td_stage1', 1.0, 'le')
    add('stage 1 (1x1 regressor) speed-up over MMRazor joint', 'stage1_k1',
        'mmrazor_joint', None, None, invert=True)
    add('stage 1 1x1 / stage 1 (config)', 'stage1_k1', 'stage1', None, None)
    add('channels_last stage 2 / NCHW stage 2', 'stage2', 'stage2_nchw',
        None, None)
    add('channels_last stage 1 / NCHW stage 1', 'stage1', 'stage1_nchw',
        None, None)
    add('compiled stage 2 / stage 2', 'stage2_compiled', 'stage2', None,
        None)
    add('compiled stage 1 / stage 1', 'stage1_compiled', 'stage1', None,
        None)
    lines += ['', '| ratio (per round) | median [min, max] | target | met |',
              '|---|---:|---:|:---:|']
    missed = []
    for label, vals, limit, sense, pair in targets:
        m = statistics.median(vals)
        if limit is None:
            lines.append(f'| {label} | {summary(vals)} | - | - |')
            continue
        ok = m <= limit if sense == 'le' else m >= limit
        if not ok:
            missed.append(pair)
        lines.append(f'| {label} | {summary(vals)} | '
                     f'{"<=" if sense == "le" else ">="} {limit} | '
                     f'{"yes" if ok else "NO"} |')
    if 'stage1' in mem and 'stage2' in mem:
        m1 = mem['stage1'][0] / mem['stage2'][0]
        lines.append(f'| stage 1 / stage 2 peak memory | {m1:.3f} | <= 0.65 '
                     f'| {"yes" if m1 <= 0.65 else "NO"} |')
    for name, label in (('stage1_k1', 'stage 1 (1x1) / stage 2 peak memory'),
                        ('mmrazor_joint', 'MMRazor joint / stage 2 peak '
                         'memory')):
        if name in mem and 'stage2' in mem:
            lines.append(f'| {label} | '
                         f'{mem[name][0] / mem["stage2"][0]:.3f} | - | - |')
    table = '\n'.join(lines)
    print(table)
    profiles = []
    if missed and not args.quick:
        for name, ref in missed:
            for n in (name, ref):
                profiles.append(f'### {LABELS[n]}\n\n```\n'
                                f'{profile_step(steps[n])}\n```\n')
    wall = time.time() - t_start
    load_end = open('/proc/loadavg').read().strip()
    print(f'\nwall time {wall:.0f} s; load average at start {load_start}, '
          f'at end {load_end}')
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                    exist_ok=True)
        with open(args.out, 'w') as f:
            f.write('# Training-step speed on the CIFAR-10 main pair\n\n')
            f.write(f'Command: `{cmd}` (wall time {wall:.0f} s). No GPU '
                    'on this machine.\n\n')
            f.write(table + '\n\n')
            f.write('All step times (s), round by round:\n\n')
            for name in names:
                f.write(f'- {name}: ' + ', '.join(
                    f'{t:.3f}' for t in times[name]) + '\n')
            f.write(f'\nLoad average at start: {load_start}; at end: '
                    f'{load_end} (the machine is shared with other jobs; '
                    'compare the ratios with the noise control)\n\n')
            if profiles:
                f.write('## Profiles where a target was missed (one step '
                        'each, top operators by self CPU time)\n\n')
                f.write('\n'.join(profiles) + '\n')
            f.write('Machine:\n\n```\n' + machine_info() + '\n```\n')


if __name__ == '__main__':
    main()

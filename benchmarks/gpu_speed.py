"""Speed of FitNets on one GPU: the script to run the day a GPU is at hand.

At most about 8 minutes on one GPU (``--budget``, default 420 s, is checked
between sections; a section that would start past it is skipped and the
report says so). For the CIFAR-10 main pair as ``configs/fitnet_cifar10.py``
builds it (3x3 regressor, channels_last inputs; random inputs, no teacher
checkpoint), in interleaved rounds, with ``torch.cuda.synchronize()`` around
every step:

1. **Steps against the floor**, under AMP (``AmpOptimWrapper``, float16 and
   a loss scaler, what ``tools/train.py --amp`` uses) and channels_last:
   ``floor`` (hand-written KD step, ``torch.autocast`` + ``GradScaler``),
   ``floor_copy`` (noise control), ``stage2``, ``floor_hint`` (hand-written
   truncated stage 1), ``stage1``; and ``stage2_fp32`` / ``stage1_fp32``
   (no AMP) and ``stage2_nchw`` / ``stage1_nchw`` (``channels_last=False``)
   to show what AMP and the layout bring on this GPU.
2. **Compile**: ``torch.compile(train_step)`` of both stages under AMP;
   compile time (the first steps) and the step time after it.
3. **Loader throughput delivered to the device**: images/s of the
   config's training loader (and the batch-aug config's) through the data
   preprocessor onto the GPU, with its workers, on a fake CIFAR-10 in the
   real on-disk format (``fake_data.py``).
4. **Peak memory**: ``torch.cuda.max_memory_allocated`` of a few steps of
   each variant (stage 1 against stage 2, and against MMRazor's joint step).

``--dry`` runs every section on the CPU with tiny sizes (batch 2, one
round, one warm-up step, no workers, autocast entered but off: CPU bfloat16
convolutions are slow without AMX) to check that the script works; its
numbers mean nothing and it writes no results file unless ``--out`` is
given.

    python benchmarks/gpu_speed.py              # on a GPU machine
    python benchmarks/gpu_speed.py --dry        # anywhere: a smoke test
"""
import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import step_speed as ss  # noqa: E402

STEP_VARIANTS = ('floor', 'floor_copy', 'stage2', 'floor_hint', 'stage1',
                 'stage2_fp32', 'stage1_fp32', 'stage2_nchw', 'stage1_nchw')
COMPILED = ('stage2_compiled', 'stage1_compiled')
MEMORY = ('stage2', 'stage1', 'mmrazor_joint')
LABELS = {
    'floor': 'floor: hand-written KD step (AMP, channels_last)',
    'floor_copy': 'floor, second copy (noise control)',
    'stage2': 'fitnets_mm stage 2 (AMP, channels_last)',
    'floor_hint': 'floor: hand-written truncated stage 1',
    'stage1': 'fitnets_mm stage 1 (AMP, channels_last)',
    'stage2_fp32': 'stage 2, float32 (no AMP)',
    'stage1_fp32': 'stage 1, float32 (no AMP)',
    'stage2_nchw': 'stage 2, AMP, channels_last=False',
    'stage1_nchw': 'stage 1, AMP, channels_last=False',
    'stage2_compiled': 'stage 2, AMP, torch.compile',
    'stage1_compiled': 'stage 1, AMP, torch.compile',
    'mmrazor_joint': "MMRazor's joint FitNets step (AMP)",
}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dry', action='store_true',
                        help='run on the CPU with tiny sizes (smoke test)')
    parser.add_argument('--batch', type=int, default=None,
                        help='batch size (default 128, dry 2)')
    parser.add_argument('--steps', type=int, default=None,
                        help='timed steps per variant per round (default '
                        '10, dry 1)')
    parser.add_argument('--rounds', type=int, default=None,
                        help='interleaved rounds (default 5, dry 1)')
    parser.add_argument('--loader-batches', type=int, default=None,
                        help='batches per loader measurement (default 100, '
                        'dry 2)')
    parser.add_argument('--workers', type=int, default=None,
                        help='loader workers (default: min(8, CPUs), dry 0)')
    parser.add_argument('--budget', type=float, default=420.0,
                        help='seconds; sections that would start later are '
                        'skipped (default 420)')
    parser.add_argument('--skip', default='',
                        help='sections to skip: steps,compile,loader,memory')
    parser.add_argument('--out', default=None,
                        help='markdown file (default benchmarks/results/'
                        'gpu_speed.md; dry: none)')
    args = parser.parse_args(argv)
    dry = args.dry
    args.batch = args.batch or (2 if dry else 128)
    args.steps = args.steps or (1 if dry else 10)
    args.rounds = args.rounds or (1 if dry else 5)
    args.loader_batches = args.loader_batches or (2 if dry else 100)
    if args.workers is None:
        args.workers = 0 if dry else min(8, os.cpu_count() or 1)
    args.skip = {s.strip() for s in args.skip.split(',') if s.strip()}
    if args.out is None and not dry:
        args.out = os.path.join(HERE, 'results', 'gpu_speed.md')
    if not dry and not torch.cuda.is_available():
        parser.error('no CUDA device: run on a GPU machine, or use --dry '
                     'to check the script on the CPU')
    return args


class Device:
    """Where and how the steps run: CUDA with float16 AMP, or (``--dry``)
    the CPU with bfloat16 autocast."""

    def __init__(self, dry: bool) -> None:
        self.dry = dry
        self.type = 'cpu' if dry else 'cuda'
        self.device = torch.device(self.type)
        self.amp_dtype = torch.bfloat16 if dry else torch.float16

    def sync(self) -> None:
        if not self.dry:
            torch.cuda.synchronize()

    def autocast(self):
        return torch.autocast(self.type, dtype=self.amp_dtype,
                              enabled=not self.dry)

    @property
    def warmup(self) -> int:
        return 1 if self.dry else 5

    def reset_peak(self) -> None:
        if not self.dry:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

    def peak_mib(self) -> Optional[float]:
        if self.dry:
            return None
        return torch.cuda.max_memory_allocated() / 2**20


# ------------------------------------------------------------------ steps
def _wrapper(params, dev: Device, amp: bool):
    """mmengine's optim wrapper as the Runner builds it (``--amp``: an
    ``AmpOptimWrapper``)."""
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    optimizer = ss._sgd(params)
    if not amp:
        return OptimWrapper(optimizer)
    if dev.dry:  # mmengine's AmpOptimWrapper needs a GPU
        return _CpuAutocastWrapper(optimizer)
    return AmpOptimWrapper(optimizer=optimizer, dtype=dev.amp_dtype,
                           loss_scale='dynamic')


def _cpu_autocast_wrapper_cls():
    from mmengine.optim import OptimWrapper

    class CpuAutocastWrapper(OptimWrapper):
        """``--dry``'s stand-in for ``AmpOptimWrapper``: the forward in an
        autocast context, switched off, no loss scaling."""

        @contextlib.contextmanager
        def optim_context(self, model):
            with super().optim_context(model), torch.autocast(
                    'cpu', dtype=torch.bfloat16, enabled=False):
                yield

    return CpuAutocastWrapper


def _CpuAutocastWrapper(optimizer):  # noqa: N802 (a class, built late)
    return _cpu_autocast_wrapper_cls()(optimizer)


def make_step(name: str, batch: int, dev: Device) -> Callable[[], float]:
    """One training step of a variant on the device."""
    data = ss.make_batch(batch)
    if name in ('floor', 'floor_copy', 'floor_hint'):
        return _floor_step(name, data, dev)
    amp = not name.endswith('_fp32')
    if name == 'mmrazor_joint':
        model = ss.build_mmrazor_joint().to(dev.device)
        params = list(model.student.parameters()) + list(
            model.distiller.parameters())
    else:
        model = ss.build_fitnets(
            channels_last=False if name.endswith('_nchw') else True)
        model = model.to(dev.device)
        model.set_stage('kd' if name.startswith('stage2') else 'hint')
        params = list(model.student.parameters()) + list(
            model.regressors.parameters())
    model.train()
    wrapper = _wrapper(params, dev, amp)
    train_step = model.train_step
    if name.endswith('_compiled'):
        options = dict(layout_optimization=False) if dev.dry else None
        train_step = torch.compile(model.train_step, options=options)

    def step() -> float:
        log_vars = train_step(data, wrapper)
        return float(log_vars['loss'].detach())

    return step


def _floor_step(name: str, data: dict, dev: Device) -> Callable[[], float]:
    """The hand-written floors of ``step_speed.py``, on the device, under
    ``torch.autocast`` with a ``GradScaler``, channels_last."""
    algo = ss.build_fitnets(channels_last=True).to(dev.device)
    student, teacher = algo.student, algo.teacher
    regressor = algo.regressors[0]
    student.train()
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    pre = student.data_preprocessor
    inputs = data['inputs'].to(dev.device)
    labels = torch.tensor([int(s.gt_label) for s in data['data_samples']],
                          device=dev.device)
    scaler = torch.amp.GradScaler(dev.type, enabled=not dev.dry)

    def normalised() -> torch.Tensor:
        x = (inputs.float() - pre.mean) / pre.std
        return x.contiguous(memory_format=torch.channels_last)

    if name == 'floor_hint':
        opt = ss._sgd(list(student.parameters()) +
                      list(regressor.parameters()))

        def loss_fn(x):
            with torch.no_grad():
                hint = ss._upto_layer2(teacher, x)
            guided = regressor(ss._upto_layer2(student, x))
            return 0.5 * (guided.float() - hint.float()).pow(2).sum() / \
                x.shape[0]
    else:
        opt = ss._sgd(student.parameters())

        def logits_of(net, x):
            return net.head.fc(net.neck(net.backbone(x))[-1])

        def loss_fn(x):
            with torch.no_grad():
                t_logits = logits_of(teacher, x).float()
            s_logits = logits_of(student, x).float()
            soft = -(F.softmax(t_logits / ss.TAU, 1) *
                     F.log_softmax(s_logits / ss.TAU, 1)).sum(1).mean()
            return F.cross_entropy(s_logits, labels) + ss.LAMBDA * soft

    def step() -> float:
        x = normalised()
        with dev.autocast():
            loss = loss_fn(x)
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return float(loss.detach())

    return step


def time_steps(steps: Dict[str, Callable[[], float]], rounds: int,
               per_round: int, dev: Device) -> Dict[str, List[float]]:
    """Seconds per step of each variant, per round (interleaved)."""
    times: Dict[str, List[float]] = {k: [] for k in steps}
    for r in range(rounds):
        order = list(steps) if r % 2 == 0 else list(steps)[::-1]
        for name in order:
            dev.sync()
            t0 = time.perf_counter()
            for _ in range(per_round):
                loss = steps[name]()
            dev.sync()
            times[name].append((time.perf_counter() - t0) / per_round)
            if loss != loss:
                raise FloatingPointError(f'{name}: loss is NaN')
    return times


def _summary(values: List[float]) -> str:
    return (f'{statistics.median(values):.3f} [{min(values):.3f}, '
            f'{max(values):.3f}]')


def steps_section(args, dev: Device) -> List[str]:
    names = [n for n in STEP_VARIANTS]
    steps = {n: make_step(n, args.batch, dev) for n in names}
    for fn in steps.values():  # warm-up: cuDNN autotuning, allocator
        for _ in range(dev.warmup):
            fn()
    times = time_steps(steps, args.rounds, args.steps, dev)
    ref = {n: 'floor_hint' if 'stage1' in n else 'floor' for n in names}
    ref.update(floor='floor', floor_copy='floor', floor_hint='floor_hint')
    lines = ['| variant | median ms/step | images/s | vs reference, per '
             'round: median [min, max] |', '|---|---:|---:|---:|']
    for n in names:
        med = statistics.median(times[n])
        ratios = [a / b for a, b in zip(times[n], times[ref[n]])]
        lines.append(f'| {LABELS[n]} | {med * 1e3:.1f} | '
                     f'{args.batch / med:.0f} | {_summary(ratios)} '
                     f'(/{ref[n]}) |')
    pairs = [('AMP stage 2 / float32 stage 2', 'stage2', 'stage2_fp32'),
             ('AMP stage 1 / float32 stage 1', 'stage1', 'stage1_fp32'),
             ('channels_last stage 2 / NCHW stage 2', 'stage2',
              'stage2_nchw'),
             ('channels_last stage 1 / NCHW stage 1', 'stage1',
              'stage1_nchw'),
             ('stage 1 / stage 2', 'stage1', 'stage2')]
    lines += ['', '| ratio of step times, per round | median [min, max] |',
              '|---|---:|']
    for label, a, b in pairs:
        lines.append(f'| {label} | ' + _summary(
            [x / y for x, y in zip(times[a], times[b])]) + ' |')
    return lines


def compile_section(args, dev: Device) -> List[str]:
    lines = ['| variant | compile (first step) s | ms/step after | vs eager '
             '|', '|---|---:|---:|---:|']
    for name in COMPILED:
        eager = make_step(name.replace('_compiled', ''), args.batch, dev)
        compiled = make_step(name, args.batch, dev)
        dev.sync()
        t0 = time.perf_counter()
        compiled()
        dev.sync()
        first = time.perf_counter() - t0
        for fn in (eager, compiled):
            for _ in range(dev.warmup):
                fn()
        times = time_steps({'eager': eager, 'compiled': compiled},
                           args.rounds, args.steps, dev)
        ratio = [a / b for a, b in zip(times['compiled'], times['eager'])]
        lines.append(f'| {LABELS[name]} | {first:.1f} | '
                     f'{statistics.median(times["compiled"]) * 1e3:.1f} | '
                     f'{_summary(ratio)} |')
    return lines


def loader_section(args, dev: Device) -> List[str]:
    import data_pipeline as dp
    from fake_data import use_cifar10_checksums, write_fake_cifar10
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')  # the datasets' scope, as the configs
    lines = ['| loader (config) | workers | images/s on the device, per '
             'round: median [min, max] |', '|---|---:|---:|']
    with tempfile.TemporaryDirectory() as root:
        md5s = write_fake_cifar10(root, per_batch=100 if dev.dry else 10000)
        use_cifar10_checksums(md5s)
        variants = dp.cifar_variants(root, args.batch)
        streams = {}
        for name in ('config', 'batch-aug'):
            loader_cfg, pre_cfg = variants[name]
            loader = dp.build_loader(loader_cfg, args.workers)
            pre = dp.build_preprocessor(pre_cfg).to(dev.device)
            streams[name] = _DeviceStream(loader, pre, dev)
        rates: Dict[str, List[float]] = {k: [] for k in streams}
        for s in streams.values():
            for _ in range(2):
                s.next()
        for r in range(args.rounds):
            order = list(streams)[::(-1 if r % 2 else 1)]
            for name in order:
                dev.sync()
                t0 = time.perf_counter()
                n = sum(streams[name].next()
                        for _ in range(args.loader_batches))
                dev.sync()
                rates[name].append(n / (time.perf_counter() - t0))
        for name, values in rates.items():
            lines.append(f'| {name} | {args.workers} | '
                         f'{statistics.median(values):.0f} '
                         f'[{min(values):.0f}, {max(values):.0f}] |')
    return lines


class _DeviceStream:
    """Batches of a loader, through the data preprocessor, on the device."""

    def __init__(self, loader, pre, dev: Device) -> None:
        self.loader, self.pre, self.dev = loader, pre, dev
        self.it = iter(loader)

    def next(self) -> int:
        try:
            batch = next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            batch = next(self.it)
        out = self.pre(batch, True)
        assert out['inputs'].device.type == self.dev.type
        return len(out['data_samples'])


def memory_section(args, dev: Device) -> List[str]:
    peaks = {}
    for name in MEMORY:
        dev.reset_peak()
        base = (torch.cuda.memory_allocated() if not dev.dry else 0)
        fn = make_step(name, args.batch, dev)
        for _ in range(1 if dev.dry else 3):
            fn()
        peak = dev.peak_mib()
        peaks[name] = None if peak is None else peak - base / 2**20
        del fn
    lines = ['| variant | peak allocated MiB (models, optimizer state and '
             'activations) |', '|---|---:|']
    for name in MEMORY:
        value = peaks[name]
        lines.append(f'| {LABELS[name]} | '
                     f'{"- (CPU dry run)" if value is None else f"{value:.0f}"}'
                     ' |')
    if peaks['stage2']:
        lines.append(f'\nStage 1 / stage 2 peak: '
                     f'{peaks["stage1"] / peaks["stage2"]:.3f}; MMRazor joint '
                     f'/ stage 2: {peaks["mmrazor_joint"] / peaks["stage2"]:.3f}.')
    return lines


def machine_info(dev: Device) -> str:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True,
                                  text=True, timeout=20).stdout.strip()
        except Exception as err:  # pragma: no cover
            return repr(err)

    lines = [sh('lscpu | head -n 15'), f'uptime: {sh("uptime")}',
             f'torch {torch.__version__}, python '
             f'{platform.python_version()}']
    if not dev.dry:
        lines += [sh('nvidia-smi --query-gpu=name,memory.total,driver_version,'
                     'clocks.max.sm --format=csv'),
                  f'CUDA {torch.version.cuda}, cuDNN '
                  f'{torch.backends.cudnn.version()}']
    return '\n'.join(lines)


SECTIONS = (('steps', 'Steps against the floor (AMP, channels_last)',
             steps_section),
            ('compile', 'torch.compile', compile_section),
            ('loader', 'Loader throughput delivered to the device',
             loader_section),
            ('memory', 'Peak memory', memory_section))


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    dev = Device(args.dry)
    torch.manual_seed(0)
    if not dev.dry:
        torch.backends.cudnn.benchmark = True
    t_start = time.time()
    ss._model_cfg()
    parts = [f'Batch {args.batch}, {args.rounds} interleaved round(s) of '
             f'{args.steps} step(s) per variant, device '
             f'{"CPU (--dry: the numbers mean nothing)" if dev.dry else torch.cuda.get_device_name()}.',
             '']
    for key, title, section in SECTIONS:
        elapsed = time.time() - t_start
        if key in args.skip:
            parts += [f'## {title}', '', 'skipped (--skip)', '']
            continue
        if elapsed > args.budget:
            parts += [f'## {title}', '', f'skipped: {elapsed:.0f} s had '
                      f'passed, over the --budget of {args.budget:.0f} s',
                      '']
            continue
        t0 = time.time()
        lines = section(args, dev)
        parts += [f'## {title}', ''] + lines + [
            '', f'({time.time() - t0:.0f} s)', '']
        print('\n'.join([f'## {title}', ''] + lines), flush=True)
    wall = time.time() - t_start
    parts.append(f'Wall time {wall:.0f} s.')
    text = '\n'.join(parts) + '\n'
    if args.out:
        cmd = 'python benchmarks/gpu_speed.py ' + ' '.join(
            sys.argv[1:] if argv is None else argv)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                    exist_ok=True)
        with open(args.out, 'w') as f:
            f.write('# FitNets on one GPU\n\n'
                    f'Command: `{cmd}`.\n\n' + text + '\nMachine:\n\n```\n' +
                    machine_info(dev) + '\n```\n')
    return text


if __name__ == '__main__':
    main()

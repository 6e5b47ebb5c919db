"""How much of the CPU's matmul peak each FitNets stage reaches, and why.

For the CIFAR-10 main pair as ``configs/fitnet_cifar10.py`` builds it (the
``train_step`` of ``benchmarks/step_speed.py``), in INTERLEAVED rounds:

* the matmul peak of this core: the best of ten ``torch.mm`` of two
  1024 x 1024 float32 matrices (2.1 GFLOP), before and after every round;
  the best over the run is the peak (load from other processes can only
  lower what is measured);
* a training step of stage 1 (hints), stage 2 (KD) and a second copy of
  stage 2 (the noise control), and of the variants asked for with
  ``--variants`` (``stage1_nchw``: ``channels_last=False``;
  ``stage1_compiled``: ``torch.compile`` with inductor's
  ``layout_optimization=False``; ``stage1_k1``: a 1x1 regressor).

Each step's FLOPs are counted once with ``torch.utils.flop_counter``
(forward and backward, convolutions and matmuls); a step's fraction of peak
is ``FLOPs / time / peak``. Stage 1 and stage 2 are compared within each
round, and the second copy of stage 2 shows how large a difference must be
to count.

Then, per convolution (``--per-layer``): every ``Conv2d`` a step calls is
timed alone at its own input shape and memory format: forward, and for the
student and the regressor the backward (grad of input and weight), in
GFLOP/s and as a fraction of the peak; with the time of the step that is
not in convolutions (batch norm, ReLU, additions, loss, optimizer).

    python benchmarks/stage_efficiency.py                 # batch 128
    python benchmarks/stage_efficiency.py --quick         # smoke test
"""
import argparse
import importlib.util
import os
import statistics
import sys
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def _step_speed():
    """``benchmarks/step_speed.py`` as a module (its model builders)."""
    if 'step_speed' in sys.modules:
        return sys.modules['step_speed']
    spec = importlib.util.spec_from_file_location(
        'step_speed', os.path.join(HERE, 'step_speed.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='tiny settings for a smoke test')
    parser.add_argument('--batch', type=int, default=None,
                        help='batch size (default 128, quick 4)')
    parser.add_argument('--rounds', type=int, default=None,
                        help='timed rounds (default 3, quick 1)')
    parser.add_argument('--variants', default='',
                        help='extra stage-1 variants, comma-separated: '
                        'stage1_nchw, stage1_k1, stage1_compiled')
    parser.add_argument('--per-layer', action='store_true',
                        help='time every convolution alone')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--peak', type=float, default=None,
                        help='the matmul peak in GFLOP/s to divide by '
                        '(default: the best measured in the run)')
    parser.add_argument('--out', default=None,
                        help='markdown file to write (default: none)')
    args = parser.parse_args(argv)
    args.batch = args.batch or (4 if args.quick else 128)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.extra = [v.strip() for v in args.variants.split(',') if v.strip()]
    unknown = set(args.extra) - {'stage1_nchw', 'stage1_k1',
                                 'stage1_compiled'}
    if unknown:
        parser.error(f'unknown variants {sorted(unknown)}; expected some of '
                     'stage1_nchw, stage1_k1, stage1_compiled')
    return args


# ------------------------------------------------------------------ peak
def matmul_peak(size: int = 1024, repeats: int = 10) -> float:
    """Best float32 ``torch.mm`` rate of ``repeats`` tries, in FLOP/s."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)
    best = float('inf')
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size**3 / best


def count_flops(step: Callable[[], float]) -> float:
    """FLOPs of one call of ``step`` (forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


# ------------------------------------------------------------ per layer
def conv_calls(model: nn.Module, step: Callable[[], float]) -> List[dict]:
    """The ``Conv2d`` calls of one step: name, module, input (detached
    copy), and whether the call builds a graph (student, regressor)."""
    calls: List[dict] = []
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):

            def hook(mod, inputs, output, name=name):
                x = inputs[0]
                calls.append(dict(
                    name=name, module=mod,
                    input=x.detach().clone(
                        memory_format=torch.preserve_format),
                    grad=torch.is_grad_enabled() and any(
                        p.requires_grad for p in mod.parameters()),
                    input_grad=x.requires_grad))

            handles.append(module.register_forward_hook(hook))
    try:
        step()
    finally:
        for handle in handles:
            handle.remove()
    return calls


def conv_flops(module: nn.Conv2d, x: torch.Tensor) -> float:
    """Forward FLOPs (2 per multiply-add) of ``module`` on ``x``."""
    with torch.no_grad():
        out_shape = module(x[:1]).shape
    kh, kw = module.kernel_size
    return (2.0 * x.shape[0] * out_shape[1] * out_shape[2] * out_shape[3] *
            module.in_channels // module.groups * kh * kw)


def time_conv(call: dict, repeats: int) -> Tuple[float, float]:
    """Best forward and backward times (s) of one convolution call."""
    module, x = call['module'], call['input']
    fwd = bwd = float('inf')
    for _ in range(repeats):
        inp = x.clone(memory_format=torch.preserve_format)
        if call['grad']:
            inp.requires_grad_(call['input_grad'])
            t0 = time.perf_counter()
            y = F.conv2d(inp, module.weight, module.bias, module.stride,
                         module.padding, module.dilation, module.groups)
            t1 = time.perf_counter()
            grad_out = torch.ones_like(y)
            wanted = [module.weight] + ([inp] if call['input_grad'] else [])
            t2 = time.perf_counter()
            torch.autograd.grad(y, wanted, grad_out)
            t3 = time.perf_counter()
            bwd = min(bwd, t3 - t2)
        else:
            with torch.no_grad():
                t0 = time.perf_counter()
                module(inp)
                t1 = time.perf_counter()
            bwd = 0.0
        fwd = min(fwd, t1 - t0)
    return fwd, bwd


def per_layer_table(model: nn.Module, step: Callable[[], float],
                    step_time: float, peak: float, repeats: int) -> str:
    """A markdown table of every convolution of a step, alone."""
    calls = conv_calls(model, step)
    rows = []
    groups: Dict[str, List[float]] = {}
    total_conv = total_fwd = total_bwd = 0.0
    for call in calls:
        fl = conv_flops(call['module'], call['input'])
        fwd, bwd = time_conv(call, repeats)
        bwd_fl = fl * (2 if call['input_grad'] else 1) if call['grad'] else 0
        total_conv += fwd + bwd
        total_fwd += fl
        total_bwd += bwd_fl
        group = groups.setdefault(_group(call['name']), [0.0, 0.0])
        group[0] += fl + bwd_fl
        group[1] += fwd + bwd
        m = call['module']
        rows.append(
            f"| {call['name']} | {tuple(call['input'].shape)} "
            f"{m.in_channels}->{m.out_channels} k{m.kernel_size[0]} "
            f"s{m.stride[0]} | "
            f"{'NHWC' if _nhwc(call['input']) else 'NCHW'} | "
            f'{fwd * 1e3:.2f} | {fl / fwd / 1e9:.1f} '
            f'({fl / fwd / peak:.0%}) | '
            + (f'{bwd * 1e3:.2f} | {bwd_fl / bwd / 1e9:.1f} '
               f'({bwd_fl / bwd / peak:.0%}) |' if bwd else '- | - |'))
    conv_flops_total = total_fwd + total_bwd
    head = [
        '| convolution | input, channels, kernel, stride | layout '
        '| fwd ms | fwd GFLOP/s (of peak) | bwd ms | bwd GFLOP/s (of peak) |',
        '|---|---|---|---:|---:|---:|---:|',
    ]
    tail = (f'\nConvolutions alone: {total_conv:.3f} s for '
            f'{conv_flops_total / 1e9:.1f} GFLOP '
            f'({conv_flops_total / total_conv / 1e9:.1f} GFLOP/s, '
            f'{conv_flops_total / total_conv / peak:.0%} of peak); the step: '
            f'{step_time:.3f} s, so {max(step_time - total_conv, 0):.3f} s '
            f'({max(step_time - total_conv, 0) / step_time:.0%}) is outside '
            'the convolutions (batch norm, ReLU, additions, loss, '
            'optimizer, framework).\n')
    summary = ['| part | GFLOP | s alone | GFLOP/s | of peak |',
               '|---|---:|---:|---:|---:|']
    for name, (fl, sec) in groups.items():
        summary.append(f'| {name} | {fl / 1e9:.2f} | {sec:.3f} | '
                       f'{fl / sec / 1e9:.1f} | {fl / sec / peak:.0%} |')
    return ('\n'.join(summary) + '\n' + tail + '\n' + '\n'.join(head + rows)
            + '\n')


def _group(name: str) -> str:
    """``teacher.backbone.layer1`` of ``teacher.backbone.layer1.0.conv1``;
    the stem and the regressors by their own names."""
    parts = name.split('.')
    if parts[0] == 'regressors':
        return 'regressor'
    for i, part in enumerate(parts):
        if part.startswith('layer'):
            return '.'.join(parts[:i + 1])
    return '.'.join(parts[:-1]) + ' (stem)' if len(parts) > 1 else name


def _nhwc(x: torch.Tensor) -> bool:
    return (x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous())


# ------------------------------------------------------------------ main
def build(ss, name: str, batch: int):
    """(model, step) of a variant, built as step_speed builds it."""
    kernel = 1 if name.endswith('_k1') else None
    channels_last = False if name.endswith('_nchw') else None
    from mmengine.optim import OptimWrapper
    model = ss.build_fitnets(channels_last=channels_last, kernel=kernel)
    model.set_stage('kd' if name.startswith('stage2') else 'hint')
    model.train()
    params = list(model.student.parameters()) + list(
        model.regressors.parameters())
    wrapper = OptimWrapper(ss._sgd(params))
    data = ss.make_batch(batch)
    train_step = model.train_step
    if name.endswith('_compiled'):
        train_step = torch.compile(model.train_step,
                                   options=ss.COMPILE_OPTIONS)

    def step() -> float:
        return float(train_step(data, wrapper)['loss'].detach())

    return model, step


def main(argv=None) -> str:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ss = _step_speed()
    t_start = time.time()
    load_start = open('/proc/loadavg').read().strip()
    names = ['stage1', 'stage2', 'stage2_copy'] + args.extra
    built = {n: build(ss, n.replace('_copy', ''), args.batch) for n in names}
    flops = {}
    for name, (_, step) in built.items():
        step()  # warm-up (compiles the compiled variant)
        flops[name] = count_flops(step) if not name.endswith(
            '_compiled') else None
    for name in names:
        if flops[name] is None:
            flops[name] = flops['stage1']
    times: Dict[str, List[float]] = {n: [] for n in names}
    peaks: List[float] = []
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        peaks.append(matmul_peak())
        for name in order:
            t0 = time.perf_counter()
            built[name][1]()
            times[name].append(time.perf_counter() - t0)
        peaks[-1] = max(peaks[-1], matmul_peak())
    peak = args.peak * 1e9 if args.peak else max(peaks)
    frac = {n: [flops[n] / t / peak for t in times[n]] for n in names}
    lines = [
        f'Batch {args.batch}, {args.rounds} interleaved round(s), '
        f'{args.threads} torch thread(s); matmul peak {peak / 1e9:.1f} '
        'GFLOP/s (' + ('given by --peak; ' if args.peak else '')
        + 'best float32 1024^3 mm of the run; per round: '
        + ', '.join(f'{p / 1e9:.1f}' for p in peaks) + ').',
        '',
        '| step | GFLOP per step | median s/step | fraction of matmul peak '
        'per round: median [min, max] |',
        '|---|---:|---:|---:|',
    ]
    for name in names:
        f = frac[name]
        lines.append(
            f'| {name} | {flops[name] / 1e9:.1f} | '
            f'{statistics.median(times[name]):.3f} | '
            f'{statistics.median(f):.1%} [{min(f):.1%}, {max(f):.1%}] |')
    gap = [a - b for a, b in zip(frac['stage2'], frac['stage1'])]
    noise = [a - b for a, b in zip(frac['stage2_copy'], frac['stage2'])]
    lines += [
        '',
        f'Stage 2 minus stage 1, in points of peak, per round: '
        + ', '.join(f'{g * 100:.1f}' for g in gap)
        + f' (target <= 10); noise control, stage 2 copy minus stage 2: '
        + ', '.join(f'{n * 100:.1f}' for n in noise) + '.',
    ]
    for name in args.extra:
        d = [a - b for a, b in zip(frac[name], frac['stage1'])]
        lines.append(f'{name} minus stage1, points of peak per round: '
                     + ', '.join(f'{x * 100:.1f}' for x in d) + '.')
    report = '\n'.join(lines) + '\n'
    if args.per_layer:
        for name in ('stage1', 'stage2'):
            model, step = built[name]
            report += (f'\n### {name}: every convolution alone (best of '
                       f'{2 if args.quick else 5})\n\n')
            report += per_layer_table(model, step,
                                      statistics.median(times[name]), peak,
                                      2 if args.quick else 5)
    wall = time.time() - t_start
    load_end = open('/proc/loadavg').read().strip()
    report += (f'\nWall time {wall:.0f} s; load average at start '
               f'{load_start}, at end {load_end}.\n')
    print(report)
    if args.out:
        cmd = 'python benchmarks/stage_efficiency.py ' + ' '.join(
            sys.argv[1:] if argv is None else argv)
        with open(args.out, 'w') as f:
            f.write('# Stage-1 efficiency: fraction of the matmul peak, per '
                    'stage and per convolution\n\n')
            f.write(f'Command: `{cmd}`. CPU only (no GPU on this '
                    'machine).\n\n' + report + '\nMachine:\n\n```\n' +
                    ss.machine_info() + '\n```\n')
    return report


if __name__ == '__main__':
    main()

"""Module paths, output shapes and hint-pair regressors of a distiller.

FitNets configs name the hint (teacher) and guided (student) layers by module
path, and the paper takes both from the middle of their networks. This module
answers the questions a config author has: which paths exist, what shape each
one outputs, which lie near the middle, and what regressor (and how many
parameters) a pair would cost. ``tools/analysis/inspect_layers.py`` prints
its report.

The shapes are found by looking, as the algorithm itself does: one probe
forward per network on zeros of the input shape, with a forward hook on every
submodule. Depth is measured in the network's own terms: the share of its
conv and linear layers that have run when a module's output is ready.
"""
import textwrap
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModel
from torch import nn
from torch.nn.modules.conv import _ConvNd

from ..models.connectors import HintRegressor
from ..models.utils import get_module

__all__ = [
    'DEFAULT_MIDDLE_BAND', 'LayerInfo', 'LayerReport', 'PairInfo',
    'config_pairs', 'describe_regressor', 'format_layer_table',
    'inspect_algorithm', 'probe_layers'
]

#: Relative depths (share of conv/linear layers run) that count as "middle".
DEFAULT_MIDDLE_BAND: Tuple[float, float] = (1 / 3, 2 / 3)

_WEIGHT_LAYERS = (_ConvNd, nn.Linear)


@dataclass
class LayerInfo:
    """What the probe forward saw of one submodule.

    Args:
        path (str): Dotted module path, e.g. ``'backbone.layer2'``.
        type_name (str): The module's class name.
        shape (tuple, optional): Output shape when the (first) output is one
            tensor, else None.
        shape_text (str): The output shape as printed (tuples of tensors are
            listed, other outputs named by type).
        calls (int): How many times the forward called the module.
        depth (int): Nesting level among the modules the forward calls: 1
            plus the number of called ancestors, so ``backbone.layer2`` is 2,
            ``backbone.layer2.0`` 3, and the blocks of an (uncalled)
            ``nn.ModuleList`` in ``backbone.layers.5`` are 2.
        position (float): Share of the network's conv/linear layers that had
            run when the module first returned, in [0, 1].
        num_params (int): Parameters of the module and its children.
        middle (bool): Whether the module is a middle candidate. Defaults to
            False.
    """
    path: str
    type_name: str
    shape: Optional[Tuple[int, ...]]
    shape_text: str
    calls: int
    depth: int
    position: float
    num_params: int
    middle: bool = False


@dataclass
class PairInfo:
    """A hint pair and the regressor that maps its guided output to the hint.

    Args:
        student (str): The student's (guided) module path.
        teacher (str): The teacher's (hint) module path.
        guided_shape (tuple): Output shape of the guided layer.
        hint_shape (tuple): Output shape of the hint layer.
        regressor (nn.Module): The regressor.
        num_params (int): Parameters of the regressor.
        origin (str): Where the pair comes from: ``'config hint'`` (its
            regressor is the one :class:`FitNetsDistill` built),
            ``'connector NAME'`` (a student connector of an MMRazor
            ``ConfigurableDistiller``, e.g. a :class:`HintRegressor`) or
            ``'--pair'`` (a default :class:`HintRegressor`).
        check (str): The result of running the regressor on zeros of
            ``guided_shape``: empty when its output has ``hint_shape``,
            otherwise what went wrong. Defaults to ``''``.
    """
    student: str
    teacher: str
    guided_shape: Tuple[int, ...]
    hint_shape: Tuple[int, ...]
    regressor: nn.Module
    num_params: int
    origin: str
    check: str = ''

    @property
    def from_config(self) -> bool:
        """Whether the config defines the pair (and its regressor)."""
        return self.origin != '--pair'


@dataclass
class LayerReport:
    """Layer tables of the student and teacher, and the hint pairs.

    Args:
        input_shape (tuple): The probe input, batch dimension included.
        student (list[LayerInfo]): The student's modules, in module order.
        teacher (list[LayerInfo]): The teacher's modules, in module order.
        pairs (list[PairInfo]): The hint pairs shown.
        student_name (str): Class name of the student.
        teacher_name (str): Class name of the teacher.
        student_params (int): Parameters of the student.
        teacher_params (int): Parameters of the teacher.
        middle_band (tuple[float, float]): The band of relative depth marked
            as middle. Defaults to :data:`DEFAULT_MIDDLE_BAND`.
    """
    input_shape: Tuple[int, ...]
    student: List[LayerInfo]
    teacher: List[LayerInfo]
    pairs: List[PairInfo]
    student_name: str
    teacher_name: str
    student_params: int
    teacher_params: int
    middle_band: Tuple[float, float] = field(
        default_factory=lambda: DEFAULT_MIDDLE_BAND)

    def format(self, max_depth: Optional[int] = 2) -> str:
        """The whole report as text.

        Args:
            max_depth (int, optional): Show modules nested at most this
                deep (:attr:`LayerInfo.depth`); None shows all.
                Defaults to 2.

        Returns:
            str: Both tables, the legend and the pairs.
        """
        parts = [
            format_layer_table(
                f'Student ({self.student_name}, '
                f'{self.student_params:,} parameters), probe input '
                f'{self.input_shape}', self.student, max_depth),
            format_layer_table(
                f'Teacher ({self.teacher_name}, '
                f'{self.teacher_params:,} parameters), probe input '
                f'{self.input_shape}', self.teacher, max_depth),
            _legend(self.middle_band, max_depth),
            _format_pairs(self.pairs, self.student_params),
        ]
        return '\n\n'.join(parts)

    def __str__(self) -> str:
        return self.format()


def _legend(middle_band: Tuple[float, float],
            max_depth: Optional[int]) -> str:
    """The legend under the tables, wrapped to 79 columns."""
    lo, hi = middle_band
    text = ('Legend: * middle candidate: one output tensor, ready after '
            f'{lo:.0%} to {hi:.0%} of the network\'s conv/linear layers '
            '("position" column); FitNets takes the hint and guided layers '
            'from the middle. xN: the module ran N times (the first output '
            'is shown and recorded). Modules the forward does not call are '
            'not listed')
    text += (f'; modules nested deeper than {max_depth} levels are hidden '
             '(see --depth).' if max_depth else '.')
    return textwrap.fill(text, width=79, subsequent_indent='  ')


def _shape_text(output: Any) -> Tuple[Optional[Tuple[int, ...]], str]:
    """Shape (for one tensor) and printed form of a module output."""
    if isinstance(output, torch.Tensor):
        shape = tuple(output.shape)
        return shape, str(shape)
    if isinstance(output, (tuple, list)) and output and all(
            isinstance(o, torch.Tensor) for o in output):
        return None, '[' + ', '.join(str(tuple(o.shape))
                                     for o in output) + ']'
    return None, type(output).__name__


def _ancestors(path: str) -> List[str]:
    """``'a.b.c'`` -> ``['a', 'a.b']``."""
    parts = path.split('.')
    return ['.'.join(parts[:i]) for i in range(1, len(parts))]


def _forward(model: nn.Module, x: torch.Tensor) -> Any:
    """Run ``model`` as the algorithm does: tensor mode for a BaseModel."""
    if isinstance(model, BaseModel):
        return model(x, mode='tensor')
    return model(x)


@torch.no_grad()
def probe_layers(
    model: nn.Module,
    input_shape: Sequence[int],
    middle_band: Tuple[float, float] = DEFAULT_MIDDLE_BAND
) -> List[LayerInfo]:
    """One probe forward with a hook on every submodule.

    The model runs in eval mode on zeros of shape ``(1, *input_shape)``; the
    train/eval mode of every submodule is restored after.

    Args:
        model (nn.Module): The network (an mmpretrain model runs in
            ``mode='tensor'``, without its data preprocessor).
        input_shape (Sequence[int]): Shape of one input, e.g. (3, 32, 32).
        middle_band (tuple[float, float]): Relative depths marked as middle.
            Defaults to :data:`DEFAULT_MIDDLE_BAND`.

    Returns:
        list[LayerInfo]: The modules the forward called, in module order.

    Raises:
        ValueError: ``input_shape`` or ``middle_band`` is malformed.
        RuntimeError: The forward failed on the probe input.
    """
    shape = tuple(input_shape)
    if not shape or any(not isinstance(s, int) or isinstance(s, bool)
                        or s < 1 for s in shape):
        raise ValueError('`input_shape` must be the positive sizes of one '
                         f'input, e.g. (3, 32, 32), but got {input_shape!r}.')
    lo, hi = middle_band
    if not 0 <= lo <= hi <= 1:
        raise ValueError('`middle_band` must be (low, high) with '
                         f'0 <= low <= high <= 1, but got {middle_band!r}.')
    done = [0]
    first: Dict[str, Tuple[Any, int]] = {}
    calls: Dict[str, int] = {}

    def make_hook(path: str):

        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if isinstance(module, _WEIGHT_LAYERS):
                done[0] += 1
            calls[path] = calls.get(path, 0) + 1
            if path not in first:
                first[path] = (output, done[0])

        return hook

    named = [(p, m) for p, m in model.named_modules() if p]
    handles = [m.register_forward_hook(make_hook(p)) for p, m in named]
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        _forward(model, torch.zeros((1, ) + shape))
    except RuntimeError as err:
        raise RuntimeError(
            f'The probe forward of {type(model).__name__} on input shape '
            f'{(1, ) + shape} failed: {err}. Give the shape of one input.'
        ) from err
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training
    total = max(done[0], 1)
    layers = []
    for path, module in named:
        if path not in first:
            continue
        output, count = first[path]
        out_shape, text = _shape_text(output)
        position = count / total
        layers.append(
            LayerInfo(
                path=path,
                type_name=type(module).__name__,
                shape=out_shape,
                shape_text=text,
                calls=calls[path],
                depth=1 + sum(prefix in first
                              for prefix in _ancestors(path)),
                position=position,
                num_params=sum(p.numel() for p in module.parameters()),
                middle=out_shape is not None and done[0] > 0
                and lo <= position <= hi))
    return layers


def format_layer_table(title: str, layers: Sequence[LayerInfo],
                       max_depth: Optional[int] = 2) -> str:
    """A fixed-width table of module paths and output shapes.

    Args:
        title (str): The line above the table.
        layers (Sequence[LayerInfo]): The rows, from :func:`probe_layers`.
        max_depth (int, optional): Show modules nested at most this deep
            (:attr:`LayerInfo.depth`); None shows all. Defaults to 2.

    Returns:
        str: The title and the table.
    """
    if max_depth is not None and max_depth < 1:
        raise ValueError(f'`max_depth` must be >= 1, but got {max_depth}.')
    header = ('', 'module path', 'type', 'output shape', 'position',
              'params')
    rows = [header] + [
        ('*' if info.middle else '', info.path,
         info.type_name + (f' x{info.calls}' if info.calls > 1 else ''),
         info.shape_text, f'{info.position:.0%}', f'{info.num_params:,}')
        for info in layers if max_depth is None or info.depth <= max_depth
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {4, 5}  # numbers are right-aligned
    lines = [title]
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append(('  '.join(cells)).rstrip())
    return '\n'.join(lines)


def describe_regressor(regressor: nn.Module) -> str:
    """One line on the regressor's layer, kernel, stride and activation.

    Args:
        regressor (nn.Module): A :class:`HintRegressor` or any module.

    Returns:
        str: E.g. ``'Conv2d(256, 128, kernel_size=(3, 3), ...) + ReLU:
        kernel 3x3, stride 1x1, padding 1x1'``.
    """
    layer = getattr(regressor, 'layer', None)
    if not isinstance(regressor, HintRegressor) or layer is None:
        return ' '.join(repr(regressor).split())
    act = getattr(regressor, 'act', None)
    text = repr(layer)
    if act is not None and not isinstance(act, nn.Identity):
        text += f' + {type(act).__name__}'
    if isinstance(layer, _ConvNd):
        kind = 'transposed conv' if layer.transposed else 'conv'
        dims = ('x'.join(str(v) for v in getattr(layer, attr))
                for attr in ('kernel_size', 'stride', 'padding'))
        text += ': {} kernel {}, stride {}, padding {}'.format(kind, *dims)
    elif isinstance(layer, nn.Linear):
        text += ': linear (vector hint)'
    return text


def _format_pairs(pairs: Sequence[PairInfo], student_params: int) -> str:
    if not pairs:
        return ('Hint pairs: none in the config; choose one with '
                '--pair STUDENT_PATH TEACHER_PATH.')
    lines = ['Hint pairs and their regressors:']
    for i, pair in enumerate(pairs):
        share = pair.num_params / max(student_params, 1)
        lines += [
            f'  [{i}] ({pair.origin}) student {pair.student} '
            f'{pair.guided_shape} -> teacher {pair.teacher} '
            f'{pair.hint_shape}',
            f'      regressor: {describe_regressor(pair.regressor)}',
            f'      regressor parameters: {pair.num_params} '
            f'({share:.2%} of the student)',
            '      check: ' + (f'ERROR: {pair.check}' if pair.check else
                               f'output {pair.hint_shape} fits the hint'),
        ]
    return '\n'.join(lines)


def _single_shape(layers: Sequence[LayerInfo], path: str,
                  role: str) -> Tuple[int, ...]:
    for info in layers:
        if info.path == path:
            if info.shape is None:
                raise ValueError(
                    f'The {role} {path!r} outputs {info.shape_text}, but a '
                    'hint or guided layer must output one tensor; name a '
                    'submodule that does.')
            return info.shape
    raise ValueError(f'The {role} {path!r} is not called by the forward; '
                     'name a module that the forward runs.')


def config_pairs(algorithm: nn.Module) -> List[Tuple[str, str, nn.Module,
                                                   str]]:
    """The (student path, teacher path, regressor, origin) pairs of a model.

    These are the hints of a :class:`FitNetsDistill` with the regressors it
    built, and, in an MMRazor ``ConfigurableDistiller``, each loss that
    compares a student module's output passed through a connector with a
    teacher module's output (as a FitNets hint inside a plain MMRazor config
    does).
    """
    pairs = [(p['student'], p['teacher'], r, 'config hint')
             for p, r in zip(getattr(algorithm, 'hint_pairs', []),
                             getattr(algorithm, 'regressors', []))]
    distiller = getattr(algorithm, 'distiller', None)
    mappings = getattr(distiller, 'loss_forward_mappings', None) or {}
    for mapping in mappings.values():
        specs = [v for v in mapping.values() if isinstance(v, dict)]
        student = [v for v in specs if v.get('from_student') and
                   v.get('connector') and 'recorder' in v]
        teacher = [v for v in specs
                   if v.get('from_student') is False and 'recorder' in v]
        if len(student) != 1 or len(teacher) != 1:
            continue
        try:
            s_source = distiller.student_recorders.get_recorder(
                student[0]['recorder']).source
            t_source = distiller.teacher_recorders.get_recorder(
                teacher[0]['recorder']).source
            connector = distiller.connectors[student[0]['connector']]
        except (AttributeError, KeyError):
            continue
        s_modules = dict(algorithm.student.named_modules())
        t_modules = dict(algorithm.teacher.named_modules())
        if s_source in s_modules and t_source in t_modules:
            pairs.append((s_source, t_source, connector,
                          f'connector {student[0]["connector"]}'))
    return pairs


def _pair_info(algorithm: nn.Module, student: str, teacher: str,
               s_layers: Sequence[LayerInfo], t_layers: Sequence[LayerInfo],
               regressor: Optional[nn.Module] = None,
               origin: str = '--pair') -> PairInfo:
    """The pair ``student -> teacher`` and its regressor.

    Without ``regressor``, a :class:`HintRegressor` with its defaults is
    built from the measured shapes.
    """
    get_module(algorithm.student, student, 'student (guided) layer')
    get_module(algorithm.teacher, teacher, 'teacher (hint) layer')
    guided = _single_shape(s_layers, student, 'student (guided) layer')
    hint = _single_shape(t_layers, teacher, 'teacher (hint) layer')
    if regressor is None:
        regressor = HintRegressor.from_shapes(guided, hint)
    return PairInfo(
        student=student,
        teacher=teacher,
        guided_shape=guided,
        hint_shape=hint,
        regressor=regressor,
        num_params=sum(p.numel() for p in regressor.parameters()),
        origin=origin,
        check=_check_regressor(regressor, guided, hint))


@torch.no_grad()
def _check_regressor(regressor: nn.Module, guided: Tuple[int, ...],
                     hint: Tuple[int, ...]) -> str:
    """'' if ``regressor`` maps a ``guided`` tensor to ``hint``'s shape."""
    was_training = regressor.training
    regressor.eval()
    try:
        out = regressor(torch.zeros(guided))
    except Exception as err:  # report any failure of a user's module
        return (f'the regressor fails on the guided output {guided}: '
                f'{type(err).__name__}: {err}')
    finally:
        regressor.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != hint:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else \
            type(out).__name__
        return f'the regressor outputs {got}, but the hint is {hint}'
    return ''


def inspect_algorithm(
    algorithm: nn.Module,
    pair: Optional[Tuple[str, str]] = None,
    input_shape: Optional[Sequence[int]] = None,
    middle_band: Tuple[float, float] = DEFAULT_MIDDLE_BAND
) -> LayerReport:
    """Probe the student and the teacher and describe the hint pairs.

    Args:
        algorithm (nn.Module): A distiller with ``student`` and ``teacher``,
            such as :class:`FitNetsDistill` (its ``hint_pairs`` and
            ``regressors`` are shown) or MMRazor's ``SingleTeacherDistill``
            (losses on a student connector and a teacher module are shown).
        pair (tuple[str, str], optional): A (student path, teacher path) pair
            to show instead of the config's pairs; it gets a default
            :class:`HintRegressor` unless the config defines it.
            Defaults to None.
        input_shape (Sequence[int], optional): Shape of one input; None uses
            the algorithm's ``input_shape``. Defaults to None.
        middle_band (tuple[float, float]): Relative depths marked as middle.
            Defaults to :data:`DEFAULT_MIDDLE_BAND`.

    Returns:
        LayerReport: Print it, or call ``format(max_depth)``.

    Raises:
        ValueError: No input shape is known, or a pair's layer does not
            output one tensor.
        KeyError: A pair names a path that does not exist (the message lists
            the closest paths).
    """
    for attr in ('student', 'teacher'):
        if not isinstance(getattr(algorithm, attr, None), nn.Module):
            raise TypeError(f'Expected a distiller with a `{attr}` module, '
                            f'but got a {type(algorithm).__name__}.')
    if input_shape is None:
        input_shape = getattr(algorithm, 'input_shape', None)
    if input_shape is None:
        raise ValueError(f'{type(algorithm).__name__} has no `input_shape`; '
                         'give the shape of one input, e.g. (3, 32, 32).')
    input_shape = tuple(int(s) for s in input_shape)
    s_layers = probe_layers(algorithm.student, input_shape, middle_band)
    t_layers = probe_layers(algorithm.teacher, input_shape, middle_band)
    configured = config_pairs(algorithm)
    if pair:
        student, teacher = pair
        # A pair the config defines keeps its own regressor.
        configured = [c for c in configured if c[:2] == (student, teacher)]
        wanted = configured[:1] or [(student, teacher, None, '--pair')]
    else:
        wanted = configured
    pairs = [
        _pair_info(algorithm, s, t, s_layers, t_layers, regressor, origin)
        for s, t, regressor, origin in wanted
    ]
    return LayerReport(
        input_shape=(1, ) + input_shape,
        student=s_layers,
        teacher=t_layers,
        pairs=pairs,
        student_name=type(algorithm.student).__name__,
        teacher_name=type(algorithm.teacher).__name__,
        student_params=sum(p.numel()
                           for p in algorithm.student.parameters()),
        teacher_params=sum(p.numel()
                           for p in algorithm.teacher.parameters()),
        middle_band=tuple(middle_band))

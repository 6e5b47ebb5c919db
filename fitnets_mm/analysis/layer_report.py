"""The layer report of a distiller: both networks' tables and its pairs.

It answers the questions a config author has: which module paths exist,
what shape each one outputs, which lie near the middle, and what regressor
(and how many parameters) a hint pair would cost.
``tools/analysis/inspect_layers.py`` prints it.
"""
import textwrap
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from torch import nn

from .hint_pairs import PairInfo, config_pairs, pair_info
from .layer_probe import DEFAULT_MIDDLE_BAND, LayerInfo, probe_layers
from .regressor_check import describe_regressor

__all__ = ['LayerReport', 'format_layer_table', 'inspect_algorithm']

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
        pair_info(algorithm, s, t, s_layers, t_layers, regressor, origin)
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

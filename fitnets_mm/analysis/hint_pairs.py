"""Hint pairs of a distiller, with their shapes and regressors.

A pair is a student (guided) module path and a teacher (hint) module path;
its regressor must map the guided output to the hint's shape. The pairs come
from a :class:`FitNetsDistill` (its ``hint_pairs`` and ``regressors``), from
an MMRazor ``ConfigurableDistiller`` (a loss on a student connector and a
teacher module) or from the user (``--pair``, with a default
:class:`HintRegressor`); :func:`check_regressor` tries each regressor.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from torch import nn

from ..models.connectors import HintRegressor
from ..models.utils import get_module
from .layer_probe import LayerInfo
from .regressor_check import check_regressor

__all__ = ['PairInfo', 'config_pairs', 'pair_info']


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


def pair_info(algorithm: nn.Module, student: str, teacher: str,
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
        check=check_regressor(regressor, guided, hint))

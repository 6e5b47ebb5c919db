"""Check the ``fsp_pairs`` of a config: two layers per network and a loss."""
from typing import Any, Dict, List, Sequence

from torch import nn

from .module_paths import get_module

__all__ = ['check_fsp_pairs']

_KEYS = ('student', 'teacher', 'loss', 'connector')


def _two_paths(value: Any, where: str) -> tuple:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(
        f'{where} must name two layers of one network, (first, second) '
        f"module paths such as ('backbone.layer1.0', 'backbone.layer1'), "
        f'but got {value!r}.')


def check_fsp_pairs(pairs: Sequence[Dict], student: nn.Module,
                    teacher: nn.Module) -> List[Dict]:
    """Validate FSP pairs and return them as a list of dicts.

    Each pair is ``dict(student=(s1, s2), teacher=(t1, t2))`` with optional
    ``loss`` (a loss config, default ``dict(type='FSPLoss')``) and
    ``connector`` (:class:`HintRegressor` arguments mapping each student map
    to the channels of the teacher's). Every path must name a module of its
    network.

    Args:
        pairs (Sequence[dict]): The pairs, or one pair as a dict.
        student (nn.Module): The student network.
        teacher (nn.Module): The teacher network.

    Returns:
        list[dict]: Copies of the pairs, with the paths as tuples.

    Raises:
        ValueError: A pair is malformed; the message names it.
    """
    if isinstance(pairs, dict):
        pairs = [pairs]
    checked = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, dict) or not {'student', 'teacher'} <= \
                set(pair):
            raise ValueError(
                f'fsp_pairs[{i}] must be a dict with keys "student" and '
                f'"teacher" (two module paths each), but got {pair!r}.')
        unknown = set(pair) - set(_KEYS)
        if unknown:
            raise ValueError(
                f'fsp_pairs[{i}] has unknown keys {sorted(unknown)}; '
                f'expected {", ".join(_KEYS)}.')
        pair = dict(pair)
        for key, net in (('student', student), ('teacher', teacher)):
            pair[key] = _two_paths(pair[key], f'fsp_pairs[{i}] {key}')
            for path in pair[key]:
                get_module(net, path, f'fsp_pairs[{i}] {key} layer')
        checked.append(pair)
    return checked

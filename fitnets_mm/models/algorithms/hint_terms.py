"""FitNets' hint loss as stage-1 terms: one ``L_HT`` per hint pair."""
import copy
from typing import Dict, List, Sequence

import torch
from mmrazor.registry import MODELS
from torch import nn

from ..connectors import HintRegressor
from ..utils import get_module, tensor_shape

__all__ = ['HintTerms', 'check_hints']

_KEYS = ('student', 'teacher', 'regressor', 'loss')


def check_hints(hints: Sequence[Dict], student: nn.Module,
                teacher: nn.Module) -> List[Dict]:
    """Validate hint pairs and return them as a list of dicts.

    Args:
        hints (Sequence[dict]): Pairs ``dict(student=PATH, teacher=PATH)``
            with optional ``regressor`` and ``loss``, or one pair as a dict.
        student (nn.Module): The student network.
        teacher (nn.Module): The teacher network.

    Returns:
        list[dict]: Copies of the pairs.

    Raises:
        ValueError: A pair is no dict, lacks a path or has unknown keys.
        KeyError: A path names no module (with the closest names).
    """
    if isinstance(hints, dict):
        hints = [hints]
    pairs = []
    for i, hint in enumerate(hints):
        if not isinstance(hint, dict) or not {'student', 'teacher'} <= \
                set(hint):
            raise ValueError(
                f'hints[{i}] must be a dict with keys "student" and '
                f'"teacher" (module paths), but got {hint!r}.')
        unknown = set(hint) - set(_KEYS)
        if unknown:
            raise ValueError(f'hints[{i}] has unknown keys {sorted(unknown)}; '
                             'expected student, teacher, regressor, loss.')
        get_module(student, hint['student'],
                   f'hints[{i}] student (guided) layer')
        get_module(teacher, hint['teacher'],
                   f'hints[{i}] teacher (hint) layer')
        pairs.append(dict(hint))
    return pairs


class HintTerms:
    """``hint.loss_ht`` (``hint.loss_ht0``, ``hint.loss_ht1``, ... for
    several pairs): ``L_HT`` of each pair's regressed guided output against
    its hint.

    The distiller owns the modules (``regressors`` and ``hint_losses``, the
    names its checkpoints hold); this object builds and applies them.

    Args:
        pairs (list[dict]): Checked hint pairs (:func:`check_hints`).
        regressors (nn.ModuleList): Filled with one regressor per pair.
        losses (nn.ModuleList): Filled with one loss per pair.
    """

    prefix = 'hint'

    def __init__(self, pairs: List[Dict], regressors: nn.ModuleList,
                 losses: nn.ModuleList) -> None:
        self.pairs = pairs
        self.regressors = regressors
        self.losses = losses

    def __len__(self) -> int:
        return len(self.pairs)

    def paths(self, index: int, net: str) -> List[str]:
        """The layers of pair ``index`` in ``net`` (student or teacher)."""
        return [self.pairs[index][net]]

    def build(self, s_feats: Dict, t_feats: Dict) -> None:
        """Build each pair's regressor from the probed shapes, and its loss.

        Args:
            s_feats (dict): Probe outputs of the student's layers.
            t_feats (dict): Probe outputs of the teacher's layers.
        """
        for i, pair in enumerate(self.pairs):
            guided = tensor_shape(s_feats[pair['student']], pair['student'])
            hint = tensor_shape(t_feats[pair['teacher']], pair['teacher'])
            cfg = copy.deepcopy(pair.get('regressor') or {})
            if cfg.get('type', 'HintRegressor') not in ('HintRegressor',
                                                         HintRegressor):
                regressor = MODELS.build(cfg)
            else:
                try:
                    regressor = HintRegressor.from_shapes(guided, hint, **cfg)
                except ValueError as err:
                    raise ValueError(
                        f'hints[{i}] ({pair["student"]} -> '
                        f'{pair["teacher"]}): {err}') from None
            self.regressors.append(regressor)
            self.losses.append(
                MODELS.build(pair.get('loss') or dict(type='HintLoss')))

    def __call__(self, s_feats: Dict, t_feats: Dict,
                 indices: Sequence[int]) -> Dict[str, torch.Tensor]:
        """The terms of the pairs ``indices``, unprefixed
        (``loss_ht`` or ``loss_ht{i}``)."""
        losses = {}
        for i in indices:
            pair = self.pairs[i]
            name = 'loss_ht' if len(self.pairs) == 1 else f'loss_ht{i}'
            losses[name] = self.losses[i](
                self.regressors[i](s_feats[pair['student']]),
                t_feats[pair['teacher']])
        return losses

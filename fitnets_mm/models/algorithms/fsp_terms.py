"""FSP (Yim et al., CVPR 2017) as stage-1 terms: one FSP loss per pair."""
from typing import Dict, List, Optional, Sequence

import torch
from mmrazor.registry import MODELS
from torch import nn

from ..connectors import HintRegressor

__all__ = ['FSPTerms']

#: The connector of an FSP pair unless the config says otherwise: a linear
#: 1x1 conv to the teacher map's channels.
DEFAULT_CONNECTOR = dict(kernel_size=1, act_cfg=None)


class FSPTerms:
    """``fsp.loss_fsp`` (``fsp.loss_fsp0``, ``fsp.loss_fsp1``, ... for
    several pairs): the FSP loss of each pair's two student maps against
    the teacher's two.

    The FSP matrices of one pair must have one shape in both networks. When
    the channel counts differ (a thin student), a ``connector`` maps each
    student map to the channels of the teacher's, as FitNets' regressor
    does. The distiller owns the modules (``fsp_connectors`` and
    ``fsp_losses``, the names its checkpoints hold).

    Args:
        pairs (list[dict]): Checked FSP pairs
            (:func:`fitnets_mm.models.utils.fsp_pairs.check_fsp_pairs`).
        connectors (nn.ModuleList): Filled with one ``ModuleList`` of two
            connectors per pair.
        losses (nn.ModuleList): Filled with one loss per pair.
    """

    prefix = 'fsp'

    def __init__(self, pairs: List[Dict], connectors: nn.ModuleList,
                 losses: nn.ModuleList) -> None:
        self.pairs = pairs
        self.connectors = connectors
        self.losses = losses

    def __len__(self) -> int:
        return len(self.pairs)

    def paths(self, index: int, net: str) -> List[str]:
        """The two layers of pair ``index`` in ``net``."""
        return list(self.pairs[index][net])

    def build(self, s_feats: Dict, t_feats: Dict) -> None:
        """Build each pair's connectors and loss, and check the pair on the
        probe features, so that a bad pair fails at build time."""
        for i, pair in enumerate(self.pairs):
            where = (f'fsp_pairs[{i}] (student {pair["student"]}, teacher '
                     f'{pair["teacher"]})')
            connectors = nn.ModuleList(
                _connector(pair.get('connector'), s_feats[s], t_feats[t],
                           where)
                for s, t in zip(pair['student'], pair['teacher']))
            loss = MODELS.build(pair.get('loss') or dict(type='FSPLoss'))
            with torch.no_grad():
                try:
                    loss(*(c(s_feats[p])
                           for c, p in zip(connectors, pair['student'])),
                         *(t_feats[p] for p in pair['teacher']))
                except ValueError as err:
                    hint = '' if pair.get('connector') is not None else (
                        ' For a student of other widths, add '
                        '`connector=dict()` (a 1x1 conv to the teacher '
                        "map's channels).")
                    raise ValueError(f'{where}: {err}{hint}') from None
            self.connectors.append(connectors)
            self.losses.append(loss)

    def __call__(self, s_feats: Dict, t_feats: Dict,
                 indices: Sequence[int]) -> Dict[str, torch.Tensor]:
        """The terms of the pairs ``indices``, unprefixed
        (``loss_fsp`` or ``loss_fsp{i}``)."""
        losses = {}
        for i in indices:
            pair = self.pairs[i]
            name = 'loss_fsp' if len(self.pairs) == 1 else f'loss_fsp{i}'
            student = [c(s_feats[p])
                       for c, p in zip(self.connectors[i], pair['student'])]
            losses[name] = self.losses[i](
                *student, *(t_feats[p] for p in pair['teacher']))
        return losses


def _connector(cfg: Optional[Dict], s_feat: torch.Tensor,
               t_feat: torch.Tensor, where: str) -> nn.Module:
    if cfg is None:
        return nn.Identity()
    if not isinstance(cfg, dict):
        raise TypeError(f'{where}: `connector` must be None or a dict of '
                        f'HintRegressor arguments, but got {cfg!r}.')
    kwargs = {**DEFAULT_CONNECTOR, **cfg}
    # Map the channels only: G does not depend on the spatial size.
    target = (s_feat.shape[0], t_feat.shape[1]) + tuple(s_feat.shape[2:])
    try:
        return HintRegressor.from_shapes(s_feat.shape, target, **kwargs)
    except ValueError as err:
        raise ValueError(f'{where}: {err}') from None

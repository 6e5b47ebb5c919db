"""The FSP matrix of Yim et al. (CVPR 2017): the flow between two layers."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

__all__ = ['fsp_matrix', 'match_spatial', 'POOL_MODES']

#: How :func:`match_spatial` may shrink the larger map: ``'avg'`` (adaptive
#: average pooling, as RepDistiller) or ``'max'`` (adaptive max pooling, as
#: torchdistill).
POOL_MODES = ('avg', 'max')


def match_spatial(first: torch.Tensor,
                  second: torch.Tensor,
                  pool: Optional[str] = None
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Bring two feature maps to one spatial size.

    Args:
        first (torch.Tensor): Map F1, shape (N, m, h1, w1).
        second (torch.Tensor): Map F2, shape (N, n, h2, w2).
        pool (str, optional): None to require equal sizes (the paper, which
            pairs layers of one section); ``'avg'`` or ``'max'`` to pool the
            larger map to the smaller one with adaptive pooling.
            Defaults to None.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: The two maps, of one size.

    Raises:
        ValueError: The maps are not 4-D, their batch sizes differ, or their
            sizes differ and ``pool`` is None.
    """
    if pool is not None and pool not in POOL_MODES:
        raise ValueError(
            f'`pool` must be None or one of {POOL_MODES}, but got {pool!r}.')
    for name, feat in (('first', first), ('second', second)):
        if feat.dim() != 4:
            raise ValueError(
                f'An FSP matrix needs feature maps (N, C, H, W), but the '
                f'{name} map has shape {tuple(feat.shape)}.')
    if first.shape[0] != second.shape[0]:
        raise ValueError(
            f'The two maps of an FSP pair must have one batch size, but got '
            f'{tuple(first.shape)} and {tuple(second.shape)}.')
    size1, size2 = tuple(first.shape[2:]), tuple(second.shape[2:])
    if size1 == size2:
        return first, second
    if pool is None:
        raise ValueError(
            f'An FSP pair needs two maps of one spatial size, but got '
            f'{tuple(first.shape)} and {tuple(second.shape)} (N, C, H, W); '
            "pair two layers of one section, or set `pool='avg'` (or "
            "'max') to pool the larger map to the smaller size.")
    target = (min(size1[0], size2[0]), min(size1[1], size2[1]))
    resize = F.adaptive_avg_pool2d if pool == 'avg' else F.adaptive_max_pool2d
    if size1 != target:
        first = resize(first, target)
    if size2 != target:
        second = resize(second, target)
    return first, second


def fsp_matrix(first: torch.Tensor,
               second: torch.Tensor,
               pool: Optional[str] = None) -> torch.Tensor:
    """The FSP matrix of two feature maps of one network.

    ``G_ij = sum_{s,t} F1[s, t, i] * F2[s, t, j] / (h * w)`` for every sample
    (Yim et al., 2017, Eq. 1): the mean over positions of the outer product
    of the two maps' channel vectors.

    Args:
        first (torch.Tensor): Map F1, shape (N, m, h, w).
        second (torch.Tensor): Map F2, shape (N, n, h, w).
        pool (str, optional): See :func:`match_spatial`. Defaults to None.

    Returns:
        torch.Tensor: G, shape (N, m, n), in float32 or wider.
    """
    first, second = match_spatial(first, second, pool)
    dtype = torch.promote_types(first.dtype, torch.float32)
    f1 = first.flatten(2).to(dtype)
    f2 = second.flatten(2).to(dtype)
    return torch.bmm(f1, f2.transpose(1, 2)) / f1.shape[2]

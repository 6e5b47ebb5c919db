"""L_FSP, the loss between the FSP matrices of teacher and student."""
from typing import Optional

import torch
from mmrazor.registry import MODELS
from torch import nn

from ..utils.fsp_matrix import POOL_MODES, fsp_matrix

__all__ = ['FSPLoss']


@MODELS.register_module()
class FSPLoss(nn.Module):
    """The FSP loss of Yim et al. (CVPR 2017, Eq. 2) for one pair of layers.

    ``L = lambda * (1/N) sum_x || G^T(x) - G^S(x) ||_2^2``, where ``G`` is the
    FSP matrix (:func:`fsp_matrix`) of two layers of one network and the sum
    runs over the m x n entries. The paper's stage-1 loss sums this over the
    pairs ``i`` with weights ``lambda_i`` (equal in the paper): give each
    pair its own ``FSPLoss`` with ``loss_weight=lambda_i``.

    The teacher's features are detached: gradients reach the student only.

    In a plain MMRazor ``ConfigurableDistiller`` the four features come from
    four recorders::

        loss_forward_mappings=dict(loss_fsp=dict(
            s_feature_1=dict(from_student=True, recorder='s_in'),
            s_feature_2=dict(from_student=True, recorder='s_out'),
            t_feature_1=dict(from_student=False, recorder='t_in'),
            t_feature_2=dict(from_student=False, recorder='t_out')))

    Args:
        loss_weight (float): lambda_i. Defaults to 1.0.
        reduction (str): ``'sum'`` (the paper: squared entries summed, then
            averaged over the batch) or ``'mean'`` (averaged over every entry,
            as RepDistiller, which keeps the scale independent of m x n).
            Defaults to ``'sum'``.
        pool (str, optional): None (the paper) raises an error when the two
            maps of one network differ in spatial size; ``'avg'`` or
            ``'max'`` pools the larger map to the smaller one with adaptive
            average (RepDistiller) or max (torchdistill) pooling first.
            Defaults to None.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 reduction: str = 'sum',
                 pool: Optional[str] = None) -> None:
        super().__init__()
        if reduction not in ('sum', 'mean'):
            raise ValueError("FSPLoss `reduction` must be 'sum' or 'mean', "
                             f'but got {reduction!r}.')
        if pool is not None and pool not in POOL_MODES:
            raise ValueError(f'FSPLoss `pool` must be None or one of '
                             f'{POOL_MODES}, but got {pool!r}.')
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.pool = pool

    def forward(self, s_feature_1: torch.Tensor, s_feature_2: torch.Tensor,
                t_feature_1: torch.Tensor,
                t_feature_2: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_feature_1 (torch.Tensor): The student's first map (N, m, h, w).
            s_feature_2 (torch.Tensor): The student's second map (N, n, h, w).
            t_feature_1 (torch.Tensor): The teacher's first map (N, m, h', w').
            t_feature_2 (torch.Tensor): The teacher's second map
                (N, n, h', w').

        Returns:
            torch.Tensor: The scalar loss.
        """
        g_s = fsp_matrix(s_feature_1, s_feature_2, self.pool)
        g_t = fsp_matrix(t_feature_1.detach(), t_feature_2.detach(),
                         self.pool)
        if g_s.shape != g_t.shape:
            raise ValueError(
                f'FSPLoss compares FSP matrices of one shape, but the '
                f'student gives {tuple(g_s.shape[1:])} (from maps '
                f'{tuple(s_feature_1.shape)} and {tuple(s_feature_2.shape)}) '
                f'and the teacher {tuple(g_t.shape[1:])} (from maps '
                f'{tuple(t_feature_1.shape)} and {tuple(t_feature_2.shape)}); '
                'pick layers with the same channel counts in both networks, '
                'or map the student with a connector.')
        sq = (g_s - g_t).pow(2)
        if self.reduction == 'sum':
            loss = sq.sum() / g_s.shape[0]
        else:
            loss = sq.mean()
        return self.loss_weight * loss

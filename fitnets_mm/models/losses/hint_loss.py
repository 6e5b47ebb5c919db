"""L_HT, the FitNets hint loss."""
import torch
from mmrazor.registry import MODELS
from torch import nn

__all__ = ['HintLoss', 'check_hint_shapes']


@MODELS.register_module()
class HintLoss(nn.Module):
    """The hint loss of FitNets (Romero et al., 2015, Eq. 3).

    ``L_HT = 1/2 * || u_h(x) - r(v_g(x)) ||^2``: the squared error summed over
    all feature elements and averaged over the batch (``reduction='sum'``, the
    paper's scale). ``reduction='mean'`` averages over every element instead,
    like MMRazor's ``L2Loss(normalize=False, div_element=True)`` up to the
    factor 1/2, which keeps the loss magnitude independent of the feature
    size.

    The teacher's hint is detached: gradients flow to the student (guided
    layers and regressor) only.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        reduction (str): ``'sum'`` (paper) or ``'mean'``.
            Defaults to ``'sum'``.
    """

    def __init__(self, loss_weight: float = 1.0,
                 reduction: str = 'sum') -> None:
        super().__init__()
        if reduction not in ('sum', 'mean'):
            raise ValueError("HintLoss `reduction` must be 'sum' or 'mean', "
                             f'but got {reduction!r}.')
        self.loss_weight = loss_weight
        self.reduction = reduction

    def forward(self, s_feature: torch.Tensor,
                t_feature: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_feature (torch.Tensor): The regressed student feature
                ``r(v_g(x))``, shape (N, ...).
            t_feature (torch.Tensor): The teacher hint ``u_h(x)``, same shape.

        Returns:
            torch.Tensor: The scalar loss.
        """
        check_hint_shapes('HintLoss', s_feature, t_feature)
        diff = s_feature - t_feature.detach()
        sq = diff.float().pow(2)
        if self.reduction == 'sum':
            loss = 0.5 * sq.sum() / s_feature.shape[0]
        else:
            loss = 0.5 * sq.mean()
        return self.loss_weight * loss


def check_hint_shapes(loss: str, s_feature: torch.Tensor,
                      t_feature: torch.Tensor) -> None:
    """Raise if a hint cost gets a student and a teacher feature of
    different shapes.

    Args:
        loss (str): The loss's name, for the message.
        s_feature (torch.Tensor): The regressed student feature.
        t_feature (torch.Tensor): The teacher hint.

    Raises:
        ValueError: The shapes differ.
    """
    if s_feature.shape != t_feature.shape:
        raise ValueError(
            f'{loss} needs features of one shape, but got student '
            f'{tuple(s_feature.shape)} and teacher '
            f'{tuple(t_feature.shape)}; map the student with a '
            'HintRegressor.')

"""The cross-entropy hint cost of FitNets for sigmoid and tanh hint layers."""
import torch
from mmrazor.registry import MODELS
from torch import nn

from .hint_loss import check_hint_shapes

__all__ = ['HintCELoss']

ACTIVATIONS = ('sigmoid', 'tanh')


@MODELS.register_module()
class HintCELoss(nn.Module):
    """Cross-entropy between a bounded hint and the regressed student.

    When the teacher's hint layer is a sigmoid or tanh layer, the authors'
    hint cost is a cross-entropy instead of the squared error of
    :class:`HintLoss` (``costs/HintCost.py`` of their code): the hint
    ``u_h(x)`` is read as the probability of each unit being on (a tanh
    output ``u`` as ``(u + 1) / 2``), and so is the regressor's output,
    which carries the same non-linearity as the hint layer:

    ``L_HT = -sum_i [u_i log r_i + (1 - u_i) log(1 - r_i)]``, summed over the
    elements of one sample and averaged over the batch.

    Note:
        The authors' code keeps only the first term, ``-sum_i u_i log r_i``,
        which is smallest when every ``r_i`` is 1 whatever the hint;
        ``binary=False`` reproduces it. The default is the full binary
        cross-entropy, whose minimum is at ``r = u``.

    Args:
        activation (str): The hint layer's non-linearity, ``'sigmoid'``
            (values in (0, 1)) or ``'tanh'`` (values in (-1, 1)).
            Defaults to ``'sigmoid'``.
        binary (bool): The full binary cross-entropy (True) or the
            original's first term only (False). Defaults to True.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        eps (float): Probabilities are clamped to ``[eps, 1 - eps]``.
            Defaults to 1e-6.
    """

    def __init__(self,
                 activation: str = 'sigmoid',
                 binary: bool = True,
                 loss_weight: float = 1.0,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f'HintCELoss `activation` must be one of '
                             f'{ACTIVATIONS}, but got {activation!r}.')
        self.activation = activation
        self.binary = binary
        self.loss_weight = loss_weight
        self.eps = eps

    def _probability(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if self.activation == 'tanh':
            x = (x + 1) / 2
        return x

    def forward(self, s_feature: torch.Tensor,
                t_feature: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_feature (torch.Tensor): The regressed student feature
                ``r(v_g(x))`` after the hint layer's non-linearity, (N, ...).
            t_feature (torch.Tensor): The teacher hint ``u_h(x)``, same shape.

        Returns:
            torch.Tensor: The scalar loss.
        """
        check_hint_shapes('HintCELoss', s_feature, t_feature)
        target = self._probability(t_feature.detach()).clamp(0, 1)
        prob = self._probability(s_feature).clamp(self.eps, 1 - self.eps)
        ce = -target * prob.log()
        if self.binary:
            ce = ce - (1 - target) * (1 - prob).log()
        return self.loss_weight * ce.sum() / s_feature.shape[0]

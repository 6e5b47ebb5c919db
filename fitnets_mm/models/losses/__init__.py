"""Losses: L_HT (squared error, or cross-entropy for bounded hints) of
FitNets, and L_FSP of Yim et al."""
from .fsp_loss import FSPLoss
from .hint_ce_loss import HintCELoss
from .hint_loss import HintLoss

__all__ = ['FSPLoss', 'HintCELoss', 'HintLoss']

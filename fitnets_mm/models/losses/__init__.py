"""Losses: L_HT (squared error, or cross-entropy for bounded hints)."""
from .hint_ce_loss import HintCELoss
from .hint_loss import HintLoss

__all__ = ['HintCELoss', 'HintLoss']

"""Losses: L_HT (FitNets) and L_FSP (Yim et al.)."""
from .fsp_loss import FSPLoss
from .hint_loss import HintLoss

__all__ = ['FSPLoss', 'HintLoss']

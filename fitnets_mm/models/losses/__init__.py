"""Losses: L_HT."""
from .hint_loss import HintLoss

__all__ = ['HintLoss']

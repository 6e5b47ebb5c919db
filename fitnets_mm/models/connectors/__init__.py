"""Connectors: the FitNets regressor."""
from .hint_regressor import HintRegressor, plan_spatial

__all__ = ['HintRegressor', 'plan_spatial']

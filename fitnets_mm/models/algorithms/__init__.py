"""Algorithms: the two-stage FitNets distiller and its FSP sibling."""
from .fitnets_distill import FitNetsDistill, NonFiniteLossError
from .fsp_distill import FSPDistill
from .preprocessor_check import DataPreprocessorMismatch

__all__ = [
    'DataPreprocessorMismatch', 'FSPDistill', 'FitNetsDistill',
    'NonFiniteLossError'
]

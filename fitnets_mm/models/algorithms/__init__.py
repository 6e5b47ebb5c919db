"""Algorithms: the two-stage distiller, its stage-1 terms and its teacher."""
from .fitnets_distill import FitNetsDistill
from .fsp_distill import FSPDistill
from .fsp_terms import FSPTerms
from .hint_terms import HintTerms
from .preprocessor_check import DataPreprocessorMismatch
from .stage_one_forward import StageOneForward

__all__ = [
    'DataPreprocessorMismatch', 'FSPDistill', 'FSPTerms', 'FitNetsDistill',
    'HintTerms', 'StageOneForward'
]

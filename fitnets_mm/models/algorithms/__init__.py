"""Algorithms: the two-stage FitNets distiller."""
from .fitnets_distill import FitNetsDistill, NonFiniteLossError

__all__ = ['FitNetsDistill', 'NonFiniteLossError']

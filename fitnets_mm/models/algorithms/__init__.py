"""Algorithms: the two-stage FitNets distiller and its FSP sibling."""
from .fitnets_distill import FitNetsDistill, NonFiniteLossError
from .fsp_distill import FSPDistill

__all__ = ['FitNetsDistill', 'FSPDistill', 'NonFiniteLossError']

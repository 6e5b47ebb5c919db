"""FSPDistill: the config name of a two-stage run whose stage 1 is FSP."""
from mmrazor.registry import MODELS

from .fitnets_distill import FitNetsDistill

__all__ = ['FSPDistill']


@MODELS.register_module()
class FSPDistill(FitNetsDistill):
    """:class:`FitNetsDistill` under the name FSP configs use.

    It adds nothing: ``fsp_pairs`` are stage-1 terms of
    :class:`FitNetsDistill` (:class:`FSPTerms`), composed with any FitNets
    ``hints``, trained jointly or block by block, and logged as FSP stages
    by :class:`FitNetsTrainLoop`. ``type='FitNetsDistill'`` with
    ``fsp_pairs`` is the same model.
    """

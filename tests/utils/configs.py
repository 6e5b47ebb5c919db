"""The blocks of ``configs/_base_`` as dicts, so that tests build what the
configs build instead of re-declaring it."""
import copy
from pathlib import Path
from typing import Any, Dict

from mmengine.config import Config

__all__ = ['CONFIGS', 'config_block', 'kd_distiller_cfg']

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
KD_BASE = '_base_/models/fitnets_logits_kd.py'


def config_block(config: str, key: str = 'model') -> Dict[str, Any]:
    """A fresh copy of one key of a merged config file.

    Args:
        config (str): Path of the config relative to ``configs/``.
        key (str): Dotted key in the merged config. Defaults to ``'model'``.

    Returns:
        dict: The block, as plain dicts and lists.
    """
    block: Any = Config.fromfile(str(CONFIGS / config)).to_dict()
    for part in key.split('.'):
        block = block[part]
    return copy.deepcopy(block)


def kd_distiller_cfg(**loss_kd: Any) -> Dict[str, Any]:
    """The distiller of ``_base_/models/fitnets_logits_kd.py``: the paper's
    stage-2 loss ``lambda * H(P_T^tau, P_S^tau)`` on the logits
    (``head.fc``, recorder ``logits``).

    Args:
        **loss_kd: Overrides of the ``KDSoftCELoss`` settings, e.g.
            ``tau=2``.

    Returns:
        dict: The ``ConfigurableDistiller`` config.
    """
    distiller = config_block(KD_BASE, 'model.distiller')
    distiller['distill_losses']['loss_kd'].update(loss_kd)
    return distiller

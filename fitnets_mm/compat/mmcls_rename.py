"""Give MMRazor 1.0.0 the MMPretrain functions it looks for under ``mmcls``.

MMRazor 1.0.0 was written against MMClassification 1.x (``mmcls``), which
was renamed MMPretrain. Where ``mmcls`` is missing, MMRazor binds
``get_placeholder('mmcls')`` instead, a class that fails only when used. On
the distillation path that hits ``KDSoftCELoss``: its criterion,
``mmcls.models.losses.cross_entropy_loss.soft_cross_entropy``, becomes the
placeholder, and every forward raises the misleading ``TypeError:
PlaceHolder.__init__() got an unexpected keyword argument 'reduction'``.

:func:`patch_mmcls_rename` binds the same function from its new home,
``mmpretrain.models.losses.cross_entropy_loss`` (same signature), and only
where MMRazor holds the placeholder: with ``mmcls`` installed nothing is
touched. It runs when ``mmrazor.models.losses.kd_soft_ce_loss`` is imported
(:mod:`fitnets_mm_startup`'s hook) and on ``import fitnets_mm``; it is
announced once; ``FITNETS_MM_COMPAT_OFF=mmcls_rename`` turns it off.
"""
import types
from typing import List, Optional

__all__ = ['patch_mmcls_rename']


def _is_placeholder(obj: object) -> bool:
    """Whether ``obj`` is a class made by ``mmrazor.utils.get_placeholder``."""
    return isinstance(obj, type) and obj.__name__ == 'PlaceHolder'


def patch_mmcls_rename(
        module: Optional[types.ModuleType] = None) -> List[str]:
    """Replace MMRazor's ``mmcls`` placeholders by MMPretrain's functions.

    Args:
        module (ModuleType, optional): ``mmrazor.models.losses.
            kd_soft_ce_loss``; imported when not given. Defaults to None.

    Returns:
        List[str]: The names that were rebound, e.g.
        ``['mmrazor.models.losses.kd_soft_ce_loss.soft_cross_entropy']``;
        empty where MMRazor found ``mmcls`` (or a call already patched).
    """
    from mmpretrain.models.losses import cross_entropy_loss
    if module is None:
        from mmrazor.models.losses import kd_soft_ce_loss as module

    patched = []
    if _is_placeholder(module.soft_cross_entropy):
        module.soft_cross_entropy = cross_entropy_loss.soft_cross_entropy
        patched.append(f'{module.__name__}.soft_cross_entropy')
        from fitnets_mm_startup import announce
        announce(
            'mmcls_rename', f'{patched[0]} is the placeholder MMRazor binds '
            'without mmcls; bound to '
            'mmpretrain.models.losses.cross_entropy_loss.soft_cross_entropy')
    return patched

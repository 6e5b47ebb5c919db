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

Registered names that MMPretrain renamed (:data:`RENAMED`, e.g. the
``PackClsInputs`` of BYOT's data pipeline, now ``PackInputs``) are
registered under their old name when ``mmcls`` is aliased to MMPretrain
(:mod:`.mmcls_scope`). A class that MMRazor derives from an ``mmcls`` class
at import time cannot be rebound: CRD's ``PackCRDClsInputs`` derives from
MMClassification's ``PackClsInputs``, whose packing MMPretrain changed.
:func:`explain_mmcls_placeholders` makes it fail with one message naming
the component and what to do, instead of MMRazor's
"`mmcls` is not installed properly, plz check".
"""
import types
from typing import Callable, Dict, List, Optional, Tuple

__all__ = [
    'MMClsNotInstalled', 'NEED_MMCLS', 'RENAMED', 'explain_mmcls_placeholders',
    'patch_mmcls_rename'
]

#: (MMPretrain registry, MMClassification 1.x name) -> (module, MMPretrain
#: name) for registered classes that were renamed, not changed.
RENAMED: Dict[Tuple[str, str], Tuple[str, str]] = {
    ('TRANSFORMS', 'PackClsInputs'):
    ('mmpretrain.datasets.transforms', 'PackInputs'),
}

#: MMRazor classes derived from an ``mmcls`` class: (module, class) -> what
#: they are for.
NEED_MMCLS: Dict[Tuple[str, str], str] = {
    ('mmrazor.datasets.transforms.formatting', 'PackCRDClsInputs'):
    "CRD's data pipeline (configs/distill/mmcls/crd)",
}


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


class MMClsNotInstalled(ImportError):
    """An MMRazor part derived from an ``mmcls`` class was used without
    ``mmcls``."""


def _needs_mmcls(qualname: str, what: str) -> Callable:
    def __init__(self: object, *args: object, **kwargs: object) -> None:
        raise MMClsNotInstalled(
            f'{qualname} ({what}) derives from a class of MMClassification '
            '1.x that MMPretrain changed, and needs the `mmcls` package, '
            'which is not installed. Run this config where MMClassification '
            '1.x is installed (MMRazor 1.0.0\'s CI: pip install '
            'git+https://github.com/open-mmlab/mmpretrain.git@mmcls-1.x), or '
            'replace the transform in the config.')

    return __init__


def explain_mmcls_placeholders(module: types.ModuleType) -> List[str]:
    """Make MMRazor's classes derived from an ``mmcls`` placeholder fail
    with one message naming the component and what to do.

    Args:
        module (ModuleType): ``mmrazor.datasets.transforms.formatting``.

    Returns:
        List[str]: The classes changed; empty where ``mmcls`` is installed.
    """
    changed = []
    for (where, name), what in NEED_MMCLS.items():
        cls = getattr(module, name, None)
        if where != module.__name__ or cls is None or not any(
                _is_placeholder(base) for base in cls.__mro__[1:]):
            continue
        qualname = f'{where}.{name}'
        cls.__init__ = _needs_mmcls(qualname, what)
        changed.append(qualname)
    return changed

"""Workarounds that make the OpenMMLab stack run on today's PyTorch.

Each submodule fixes one documented problem of a pinned upstream release and
is a no-op where that problem does not occur:

* :mod:`.mmrazor_import`: MMRazor 1.0.0's ``import mmrazor.models`` fails on
  torch 2.x because of its quantization module.
* :mod:`.safe_checkpoint`: mmengine 0.10.7 loads checkpoints without
  ``weights_only``; loading is made safe and working on every torch 2.x.
* :mod:`.atomic_checkpoint`: mmengine 0.10.7 writes checkpoints and
  ``last_checkpoint`` in place, so a kill while saving can break
  ``--resume auto``; writes are made atomic and the resume side falls back
  to the newest loadable checkpoint.
* :mod:`.cpu_distributed`: mmengine 0.10.7 cannot start distributed training
  on CPU-only machines.
* :mod:`.mmcls_rename`: MMRazor 1.0.0 looks for ``mmcls`` functions that now
  live in MMPretrain (``KDSoftCELoss`` fails without them).
* :mod:`.mmcls_scope`: MMRazor's configs name ``mmcls::`` bases, ``mmcls.``
  types and ``_scope_='mmcls'``; they resolve to MMPretrain, and mmengine
  can no longer pip-install ``mmcls`` by itself.
* :mod:`.mmrazor_inplace`: MMRazor's ``set_module_inplace_false`` and
  ``DynamicSequential.convert_from`` expect ``_modules`` to be an
  ``OrderedDict``; on torch 2.x it is a ``dict``.

The MMRazor fixes (``mmrazor_import``, ``mmrazor_inplace``, ``mmcls_rename``,
``mmcls_scope``) are applied by the import hook of :mod:`fitnets_mm_startup`
when the MMRazor module they fix is imported, whatever the import order (the
hook is installed at interpreter start by fitnets_mm's ``.pth`` file, and by
``import fitnets_mm``). Each is announced once in the log when it takes
effect and is turned off by listing its name in the environment variable
``FITNETS_MM_COMPAT_OFF`` (``all`` turns all of them off).

A further problem, ``pkg_resources`` (imported by mmengine 0.10.7) being
gone from setuptools >= 80, is solved by the ``setuptools<80`` requirement in
``setup.py``, not by code.

:func:`apply_all` is called once by ``import fitnets_mm``.
"""
from .atomic_checkpoint import patch_atomic_checkpoint
from .cpu_distributed import patch_cpu_distributed
from .mmcls_rename import patch_mmcls_rename
from .mmcls_scope import patch_mmcls_scope
from .mmrazor_inplace import (patch_dynamic_sequential,
                              patch_set_module_inplace_false,
                              set_module_inplace_false)
from .mmrazor_import import (MMRazorQuantizationUnavailable,
                             patch_mmrazor_quantization)
from .safe_checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                              register_safe_loaders, safe_load)

__all__ = [
    'CorruptCheckpointError', 'MMRazorQuantizationUnavailable',
    'UnsafeCheckpointError', 'apply_all', 'patch_atomic_checkpoint',
    'patch_cpu_distributed',
    'patch_mmcls_rename', 'patch_mmcls_scope', 'patch_mmrazor_quantization',
    'register_safe_loaders', 'safe_load', 'set_module_inplace_false'
]


def apply_all() -> None:
    """Apply every workaround; safe to call more than once."""
    import fitnets_mm_startup
    from fitnets_mm_startup import fix_enabled
    fitnets_mm_startup.install(startup=False)
    if fix_enabled('mmrazor_import'):
        patch_mmrazor_quantization()
    # Importing MMRazor's modules through the hook applies the other MMRazor
    # fixes; these calls cover modules imported before the hook existed.
    import mmrazor.models  # noqa: F401
    if fix_enabled('mmrazor_inplace'):
        from mmrazor.models.algorithms import base
        from mmrazor.models.architectures.dynamic_ops.bricks import \
            dynamic_container
        patch_set_module_inplace_false(base)
        patch_dynamic_sequential(dynamic_container)
    if fix_enabled('mmcls_rename'):
        patch_mmcls_rename()
    if fix_enabled('mmcls_scope'):
        patch_mmcls_scope()
    register_safe_loaders()
    patch_atomic_checkpoint()
    patch_cpu_distributed()

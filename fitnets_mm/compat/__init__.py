"""Workarounds that make the OpenMMLab stack run on today's PyTorch.

Each submodule fixes one documented problem of a pinned upstream release and
is a no-op where that problem does not occur:

* :mod:`.mmrazor_import`: MMRazor 1.0.0's ``import mmrazor.models`` fails on
  torch 2.x because of its quantization module.
* :mod:`.safe_checkpoint`: mmengine 0.10.7 loads checkpoints without
  ``weights_only``; loading is made safe and working on every torch 2.x.
* :mod:`.downloads`: mmengine 0.10.7 and MMPretrain download without a
  timeout, and mmengine caches URL checkpoints by file name only; downloads
  get a timeout, a cache keyed by the full URL and checked ``-HASH`` names.
* :mod:`.dataset_download`: MMPretrain's CIFAR / MNIST downloads have no
  timeout and fail with a long ``URLError`` that leaves an empty
  ``data_root``; they get a timeout and one error naming the URL,
  ``data_root`` and the override.
* :mod:`.atomic_checkpoint`: mmengine 0.10.7 writes checkpoints and
  ``last_checkpoint`` in place, so a kill while saving can break
  ``--resume auto``; writes are made atomic and the resume side falls back
  to the newest loadable checkpoint.
* :mod:`.cpu_distributed`: mmengine 0.10.7 cannot start distributed training
  on CPU-only machines; with :mod:`.launcher_watchdog`, ranks end with their
  launcher and the process group gets a short timeout on CPU.
* :mod:`.dist_collect_dir`: mmengine 0.10.7 collects distributed
  evaluation results in ``./.dist_test/``, outside the work dir.
* :mod:`.mmcls_rename`: MMRazor 1.0.0 looks for ``mmcls`` functions that now
  live in MMPretrain (``KDSoftCELoss`` fails without them).
* :mod:`.mmcls_scope`: MMRazor's configs name ``mmcls::`` bases, ``mmcls.``
  types and ``_scope_='mmcls'``; they resolve to MMPretrain, and mmengine
  can no longer pip-install ``mmcls`` by itself.
* :mod:`.mmrazor_inplace`: MMRazor's ``set_module_inplace_false`` and
  ``DynamicSequential.convert_from`` expect ``_modules`` to be an
  ``OrderedDict``; on torch 2.x it is a ``dict``.
* :mod:`.mmrazor_nhwc`: several MMRazor 1.0.0 feature losses (``L2Loss``
  with ``normalize=True``, ``FTLoss``, ``ChannelWiseDivergence``, the RKD
  losses) ``.view`` their inputs and fail on channels-last feature maps,
  fitnets_mm's default layout; their 4-D inputs are made contiguous first.

The MMRazor fixes (``mmrazor_import``, ``mmrazor_inplace``, ``mmcls_rename``,
``mmcls_scope``, ``mmrazor_nhwc``) are applied by the import hook of
:mod:`fitnets_mm_startup` when the MMRazor module they fix is imported,
whatever the import order (the hook is installed at interpreter start by
fitnets_mm's ``.pth`` file, and by ``import fitnets_mm``). Each is announced once in the log when it takes
effect and is turned off by listing its name in the environment variable
``FITNETS_MM_COMPAT_OFF``, as the other fixes are (``all`` turns every fix
off).

A further problem, ``pkg_resources`` (imported by mmengine 0.10.7) being
gone from setuptools >= 80, is solved by the ``setuptools<80`` requirement in
``setup.py``, not by code.

:func:`apply_all` is called once by ``import fitnets_mm``. Every fix can be
turned off with ``FITNETS_MM_COMPAT_OFF`` and announces itself in the log
once, when it first takes effect (:mod:`.switches`, one switch shared with
:mod:`fitnets_mm_startup`).
"""
from .atomic_checkpoint import patch_atomic_checkpoint
from .cpu_distributed import patch_cpu_distributed
from .dataset_download import DatasetDownloadError, patch_dataset_download
from .dist_collect_dir import patch_dist_collect_dir
from .mmcls_rename import patch_mmcls_rename
from .mmcls_scope import patch_mmcls_scope
from .mmrazor_inplace import (patch_dynamic_sequential,
                              patch_set_module_inplace_false,
                              set_module_inplace_false)
from .mmrazor_import import (MMRazorQuantizationUnavailable,
                             patch_mmrazor_quantization)
from .mmrazor_nhwc import patch_nhwc_losses
from .safe_checkpoint import (CorruptCheckpointError, NotACheckpointError,
                              UnsafeCheckpointError, load_checkpoint_dict,
                              register_safe_loaders, safe_load)
from .switches import announce_once, enabled

__all__ = [
    'CorruptCheckpointError',
    'DatasetDownloadError',
    'MMRazorQuantizationUnavailable',
    'NotACheckpointError',
    'UnsafeCheckpointError',
    'announce_once',
    'apply_all',
    'enabled',
    'load_checkpoint_dict',
    'patch_atomic_checkpoint',
    'patch_cpu_distributed',
    'patch_dataset_download',
    'patch_dist_collect_dir',
    'patch_mmcls_rename',
    'patch_mmcls_scope',
    'patch_mmrazor_quantization',
    'patch_nhwc_losses',
    'register_safe_loaders',
    'safe_load',
    'set_module_inplace_false'
]


def apply_all() -> None:
    """Apply every workaround that ``FITNETS_MM_COMPAT_OFF`` does not turn
    off (see :mod:`.switches`); safe to call more than once."""
    import fitnets_mm_startup
    fitnets_mm_startup.install(startup=False)
    if enabled('mmrazor_import'):
        patch_mmrazor_quantization()
    # Importing MMRazor's modules through the hook applies the other MMRazor
    # fixes; these calls cover modules imported before the hook existed.
    import mmrazor.models  # noqa: F401
    if enabled('mmrazor_inplace'):
        from mmrazor.models.algorithms import base
        from mmrazor.models.architectures.dynamic_ops.bricks import \
            dynamic_container
        patch_set_module_inplace_false(base)
        patch_dynamic_sequential(dynamic_container)
    if enabled('mmrazor_nhwc'):
        from mmrazor.models import losses
        patch_nhwc_losses(losses)
    fixes = (('mmcls_rename', patch_mmcls_rename),
             ('mmcls_scope', patch_mmcls_scope),
             ('safe_checkpoint', register_safe_loaders),
             ('atomic_checkpoint', patch_atomic_checkpoint),
             ('cpu_distributed', patch_cpu_distributed),
             ('dist_collect_dir', patch_dist_collect_dir),
             ('dataset_download', patch_dataset_download))
    for name, apply in fixes:
        if enabled(name):
            apply()

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

A further problem, ``pkg_resources`` (imported by mmengine 0.10.7) being
gone from setuptools >= 80, is solved by the ``setuptools<80`` requirement in
``setup.py``, not by code.

:func:`apply_all` is called once by ``import fitnets_mm``. Each fix but
:mod:`.mmrazor_import` can be turned off with ``FITNETS_MM_COMPAT_OFF``, and
announces itself in the log once, when it first takes effect
(:mod:`.switches`).
"""
from .atomic_checkpoint import patch_atomic_checkpoint
from .cpu_distributed import patch_cpu_distributed
from .dataset_download import DatasetDownloadError, patch_dataset_download
from .dist_collect_dir import patch_dist_collect_dir
from .mmcls_rename import patch_mmcls_rename
from .mmrazor_import import (MMRazorQuantizationUnavailable,
                             patch_mmrazor_quantization)
from .safe_checkpoint import (CorruptCheckpointError, NotACheckpointError,
                              UnsafeCheckpointError, load_checkpoint_dict,
                              register_safe_loaders, safe_load)
from .switches import announce_once, enabled

__all__ = [
    'CorruptCheckpointError', 'DatasetDownloadError',
    'MMRazorQuantizationUnavailable',
    'NotACheckpointError', 'UnsafeCheckpointError', 'announce_once',
    'apply_all', 'enabled',
    'load_checkpoint_dict', 'patch_atomic_checkpoint',
    'patch_cpu_distributed', 'patch_dataset_download',
    'patch_dist_collect_dir',
    'patch_mmcls_rename', 'patch_mmrazor_quantization', 'register_safe_loaders', 'safe_load'
]


def apply_all() -> None:
    """Apply every workaround that ``FITNETS_MM_COMPAT_OFF`` does not turn
    off (see :mod:`.switches`); safe to call more than once."""
    patch_mmrazor_quantization()
    fixes = (('mmcls_rename', patch_mmcls_rename),
             ('safe_checkpoint', register_safe_loaders),
             ('atomic_checkpoint', patch_atomic_checkpoint),
             ('cpu_distributed', patch_cpu_distributed),
             ('dist_collect_dir', patch_dist_collect_dir),
             ('dataset_download', patch_dataset_download))
    for name, apply in fixes:
        if enabled(name):
            apply()

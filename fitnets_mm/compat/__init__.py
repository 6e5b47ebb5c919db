"""Changes to third-party code that make the OpenMMLab stack run here.

Each submodule changes one documented problem of a pinned upstream release,
is a no-op where that problem does not occur, is announced once in the log
when it first acts, and is turned off by naming it in
``FITNETS_MM_COMPAT_OFF`` (:mod:`.switches`; ``all`` turns every one off):

* :mod:`.mmrazor_import`: MMRazor 1.0.0's ``import mmrazor.models`` fails on
  torch 2.x because of its quantization module.
* :mod:`.mmrazor_inplace`: MMRazor's ``set_module_inplace_false`` and
  ``DynamicSequential.convert_from`` expect ``_modules`` to be an
  ``OrderedDict``; on torch 2.x it is a ``dict``.
* :mod:`.mmcls_rename`: MMRazor 1.0.0 looks for ``mmcls`` names that now
  live in MMPretrain (``soft_cross_entropy``, ``PackClsInputs``), and says
  what to do where a part of it needs ``mmcls`` itself (CRD).
* :mod:`.mmcls_scope`: MMRazor's configs name ``mmcls::`` bases, ``mmcls.``
  types and ``_scope_='mmcls'``; they resolve to MMPretrain, and mmengine
  can no longer pip-install ``mmcls`` by itself.
* :mod:`.config_scope`: mmengine resolves ``fitnets_mm::`` config paths,
  editable installs included.
* :mod:`.cpu_distributed`: mmengine 0.10.7 cannot start distributed training
  on CPU-only machines; its process-group start also installs the launcher
  watchdog of :mod:`fitnets_mm.dist`.
* :mod:`.dist_collect_dir`: mmengine 0.10.7 collects distributed
  evaluation results in ``./.dist_test/``, outside the work dir.
* :mod:`.mmrazor_nhwc`: several MMRazor 1.0.0 feature losses (``L2Loss``
  with ``normalize=True``, ``FTLoss``, ``ChannelWiseDivergence``, the RKD
  losses) ``.view`` their inputs and fail on channels-last feature maps,
  fitnets_mm's default layout; their 4-D inputs are made contiguous first.
* :mod:`.dataset_download`: MMPretrain's CIFAR / MNIST downloads get the
  timeout and the one-line error of :mod:`fitnets_mm.fileio.downloads`.

The MMRazor fixes are applied by the import hook of :mod:`fitnets_mm_startup`
when the MMRazor module they fix is imported, whatever the import order.
The project's own features (safe and atomic checkpoints, downloads, the
launcher watchdog) live in :mod:`fitnets_mm.fileio` and
:mod:`fitnets_mm.dist`. ``docs/en/notes/compat_layout.md`` says where each
part lives and what it changes for the whole process.

:func:`apply_all` is called once by ``import fitnets_mm``.
"""
from .config_scope import register_config_scope
from .cpu_distributed import patch_cpu_distributed
from .dataset_download import DatasetDownloadError, patch_dataset_download
from .dist_collect_dir import patch_dist_collect_dir
from .mmcls_rename import explain_mmcls_placeholders, patch_mmcls_rename
from .mmcls_scope import patch_mmcls_scope
from .mmrazor_import import (MMRazorImportFixOff,
                             MMRazorQuantizationUnavailable,
                             import_mmrazor_models)
from .mmrazor_inplace import (patch_dynamic_sequential,
                              patch_set_module_inplace_false,
                              set_module_inplace_false)
from .mmrazor_nhwc import patch_nhwc_losses
from .switches import announce_once, enabled

__all__ = [
    'DatasetDownloadError', 'MMRazorImportFixOff',
    'MMRazorQuantizationUnavailable', 'announce_once', 'apply_all', 'enabled',
    'import_mmrazor_models', 'patch_cpu_distributed',
    'patch_dataset_download', 'patch_dist_collect_dir', 'patch_mmcls_rename',
    'patch_mmcls_scope', 'patch_nhwc_losses', 'register_config_scope',
    'set_module_inplace_false'
]


def apply_all() -> None:
    """Apply every change that ``FITNETS_MM_COMPAT_OFF`` does not turn off
    (see :mod:`.switches`); safe to call more than once.

    Raises:
        MMRazorImportFixOff: MMRazor does not import on this torch and the
            ``mmrazor_import`` fix is off; the message names it.
    """
    import fitnets_mm_startup
    fitnets_mm_startup.install(startup=False)
    # Importing MMRazor's modules through the hook applies the MMRazor
    # fixes; the calls below cover modules imported before the hook existed.
    import_mmrazor_models()
    if enabled('mmrazor_inplace'):
        from mmrazor.models.algorithms import base
        from mmrazor.models.architectures.dynamic_ops.bricks import \
            dynamic_container
        patch_set_module_inplace_false(base)
        patch_dynamic_sequential(dynamic_container)
    if enabled('mmcls_rename'):
        from mmrazor.datasets.transforms import formatting
        explain_mmcls_placeholders(formatting)
    if enabled('mmrazor_nhwc'):
        from mmrazor.models import losses
        patch_nhwc_losses(losses)
    fixes = (('mmcls_rename', patch_mmcls_rename),
             ('mmcls_scope', patch_mmcls_scope),
             ('config_scope', register_config_scope),
             ('cpu_distributed', patch_cpu_distributed),
             ('dist_collect_dir', patch_dist_collect_dir),
             ('dataset_download', patch_dataset_download))
    for name, apply in fixes:
        if enabled(name):
            apply()

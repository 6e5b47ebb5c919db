"""fitnets_mm's own file I/O: safe checkpoint loading, atomic writes,
downloads with a timeout and a URL-keyed cache, and the model zoo shipped
with the package (``fitnets_mm://``)."""
from .atomic_checkpoint import (AtomicLocalBackend, atomic_write,
                                find_latest_checkpoint)
from .downloads import DownloadError, download, fetch_url
from .safe_checkpoint import (ALLOWED_GLOBALS, CorruptCheckpointError,
                              NotACheckpointError, UnsafeCheckpointError,
                              load_checkpoint_dict, safe_load)
from .zoo_weights import (ZOO_PREFIX, ZooWeightsDamaged, ZooWeightsNotFound,
                          zoo_names, zoo_path)

__all__ = [
    'ALLOWED_GLOBALS', 'ATOMIC_BACKEND', 'AtomicLocalBackend',
    'CorruptCheckpointError', 'DownloadError', 'NotACheckpointError',
    'UnsafeCheckpointError', 'ZOO_PREFIX', 'ZooWeightsDamaged',
    'ZooWeightsNotFound',
    'atomic_write', 'download', 'fetch_url',
    'find_latest_checkpoint', 'load_checkpoint_dict', 'register_file_features',
    'safe_load', 'zoo_names', 'zoo_path'
]


#: The name under which configs choose the atomic backend, also where the
#: ``atomic_checkpoint`` switch leaves mmengine's local backend in place:
#: ``backend_args=dict(backend='atomic_local')``.
ATOMIC_BACKEND = 'atomic_local'


def register_file_features() -> None:
    """Register the safe checkpoint loaders, the model zoo's
    ``fitnets_mm://`` loader and the atomic local backend in mmengine; safe
    to call more than once.

    The atomic backend is always registered under :data:`ATOMIC_BACKEND`, so
    that a config can choose it (``default_hooks.checkpoint.backend_args``,
    ``backend_args`` of the Runner). Unless ``FITNETS_MM_COMPAT_OFF`` names
    them, it also serves every local path (``atomic_checkpoint``) and the
    safe loaders serve local and URL checkpoints (``safe_checkpoint``).
    """
    from mmengine.fileio.backends import register_backend

    from ..compat.switches import enabled
    from .atomic_checkpoint import patch_atomic_checkpoint
    from .checkpoint_loaders import register_safe_loaders, register_zoo_loader
    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
    register_zoo_loader()
    if enabled('safe_checkpoint'):
        register_safe_loaders()
    if enabled('atomic_checkpoint'):
        patch_atomic_checkpoint()

"""fitnets_mm's own file I/O: safe checkpoint loading, atomic writes and
downloads with a timeout and a URL-keyed cache."""
from .atomic_checkpoint import (AtomicLocalBackend, atomic_write,
                                find_latest_checkpoint)
from .downloads import DownloadError, download, fetch_url
from .safe_checkpoint import (ALLOWED_GLOBALS, CorruptCheckpointError,
                              NotACheckpointError, UnsafeCheckpointError,
                              load_checkpoint_dict, safe_load)

__all__ = [
    'ALLOWED_GLOBALS', 'AtomicLocalBackend', 'CorruptCheckpointError',
    'DownloadError', 'NotACheckpointError', 'UnsafeCheckpointError',
    'atomic_write', 'download', 'fetch_url', 'find_latest_checkpoint',
    'load_checkpoint_dict', 'register_file_features', 'safe_load'
]


def register_file_features() -> None:
    """Register the safe checkpoint loaders and the atomic local backend in
    mmengine, each unless ``FITNETS_MM_COMPAT_OFF`` names it
    (``safe_checkpoint``, ``atomic_checkpoint``); safe to call more than
    once."""
    from ..compat.switches import enabled
    from .checkpoint_loaders import register_safe_loaders
    from .atomic_checkpoint import patch_atomic_checkpoint
    if enabled('safe_checkpoint'):
        register_safe_loaders()
    if enabled('atomic_checkpoint'):
        patch_atomic_checkpoint()

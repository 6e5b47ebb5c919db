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
    'load_checkpoint_dict', 'safe_load'
]

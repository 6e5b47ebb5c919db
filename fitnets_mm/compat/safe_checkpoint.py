"""Load checkpoints with PyTorch's weights-only unpickler on every torch 2.x.

mmengine 0.10.7 calls ``torch.load(filename, map_location)`` without
``weights_only``. On torch >= 2.6 that means ``weights_only=True``, which
refuses mmengine's own checkpoints (they hold a ``MessageHub`` with
``HistoryBuffer`` objects and NumPy arrays), so ``--resume`` and
``load_from`` fail. On torch < 2.6 it means full pickle, which runs any code
a downloaded file contains.

:func:`safe_load` always passes ``weights_only=True`` and allow-lists exactly
the extra types an mmengine checkpoint holds (:data:`ALLOWED_GLOBALS`): a file
that needs anything else is refused with :class:`UnsafeCheckpointError`,
naming the file and the offending type, before any of its code can run. A
corrupt or truncated file raises :class:`CorruptCheckpointError`.
:func:`register_safe_loaders` re-registers mmengine's ``CheckpointLoader``
schemes for local paths, HTTP(S) URLs (zoo checkpoints, ``mmcls://``,
``open-mmlab://``, ``torchvision://``) and object storage with it, so
``teacher_ckpt``, ``load_from`` and ``--resume`` all go through it.
"""
import io
import os
import pickle
import re
import struct
import zipfile
from typing import Any, List, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

__all__ = [
    'ALLOWED_GLOBALS', 'CorruptCheckpointError', 'UnsafeCheckpointError',
    'register_safe_loaders', 'safe_load'
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a type outside the allow-list to be unpickled."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file is truncated, damaged or not a checkpoint."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as an mmengine checkpoint uses it, and nothing more.

    ``HistoryBuffer`` pickles its statistics methods (``min``, ``mean`` ...)
    as ``getattr(HistoryBuffer, 'min')``. This stand-in for
    ``builtins.getattr`` answers only those lookups, so the allow-list does
    not hand a general attribute walk to the file.
    """
    if obj is HistoryBuffer and name in _statistics_names():
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint; only '
        f'the HistoryBuffer statistics {_statistics_names()} may be looked up')


def _statistics_names() -> List[str]:
    """Built-in and registered ``HistoryBuffer`` statistics methods."""
    names = {'min', 'max', 'mean', 'current'}
    names.update(HistoryBuffer._statistics_methods)
    return sorted(names)


def _numpy_globals() -> List[Any]:
    """NumPy types that arrays and scalars in a checkpoint pickle through."""
    core = getattr(np, '_core', None) or np.core
    types_ = [core.multiarray._reconstruct, core.multiarray.scalar,
              np.ndarray, np.dtype]
    # NumPy >= 1.25 pickles dtypes through per-dtype classes.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types_ += [getattr(dtypes, n) for n in dir(dtypes)
                   if n.endswith('DType') and isinstance(
                       getattr(dtypes, n), type)]
    return types_


#: Everything beyond torch's own weights-only set that mmengine checkpoints
#: contain: the message hub's ``HistoryBuffer`` with NumPy arrays and scalars.
ALLOWED_GLOBALS: List[Any] = [
    HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
] + _numpy_globals()

# How torch's weights-only unpickler names what it refused: a global
# (class or function), a callable to reduce, or a class to build. Its other
# errors ("Unsupported operand 110", ...) mean the bytes are no checkpoint.
_REFUSED = re.compile(
    r'GLOBAL (\S+)|reduce for unrecognized function (\S+)|'
    r'Can only (?:build|create new object)\b.*?but got (.+)$', re.I | re.M)


def _offending_type(message: str) -> Optional[str]:
    """The type a weights-only error refused, or None if it refused none."""
    match = _REFUSED.search(message)
    if match is None:
        return None
    return next(g for g in match.groups() if g).rstrip('.,')


def safe_load(file: Union[str, os.PathLike, io.IOBase],
              map_location: Optional[Any] = None,
              name: Optional[str] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and mmengine's allow-list.

    Args:
        file (str | PathLike | file-like): The checkpoint.
        map_location (Any, optional): As in :func:`torch.load`.
            Defaults to None.
        name (str, optional): How to name the file in errors (a URL, say).
            Defaults to ``str(file)``.

    Returns:
        Any: The unpickled checkpoint.

    Raises:
        UnsafeCheckpointError: The file needs a type outside the allow-list.
        CorruptCheckpointError: The file is truncated or not a checkpoint.
    """
    name = name or str(getattr(file, 'name', file))
    try:
        with torch.serialization.safe_globals(ALLOWED_GLOBALS):
            return torch.load(file, map_location=map_location,
                              weights_only=True)
    except FileNotFoundError:
        raise
    except UnsafeCheckpointError as err:
        raise UnsafeCheckpointError(f'{name}: {err}') from None
    except pickle.UnpicklingError as err:
        text = str(err)
        offending = _offending_type(text)
        if offending is not None:
            raise UnsafeCheckpointError(
                f'Refused to load checkpoint {name}: it needs the type '
                f'{offending!r}, which is not among the types '
                'an mmengine checkpoint holds. Unpickling it could run code; '
                'nothing in it was executed. Convert it to a plain state '
                'dict from a trusted environment.') from None
        raise CorruptCheckpointError(
            f'Checkpoint {name} is damaged or not a checkpoint: {text}'
        ) from None
    except (EOFError, zipfile.BadZipFile, RuntimeError, ValueError, OSError,
            IndexError, KeyError, TypeError, AttributeError,
            struct.error) as err:
        # torch's zip reader and the weights-only unpickler fail on damaged
        # bytes with any of these (e.g. ``OSError: Invalid argument`` for a
        # file cut early, ``IndexError`` for text).
        raise CorruptCheckpointError(
            f'Checkpoint {name} is truncated, damaged or not a PyTorch '
            f'checkpoint ({type(err).__name__}: {err})') from None


def _load_from_local(filename: str, map_location: Any = None) -> Any:
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_load(filename, map_location)


def _load_from_http(filename: str,
                    map_location: Any = None,
                    model_dir: Optional[str] = None,
                    progress: bool = os.isatty(0)) -> Any:
    """Download once (local rank 0 first, as mmengine does), then load."""
    from mmengine.dist import get_dist_info
    from torch.hub import download_url_to_file, get_dir
    from urllib.parse import urlparse

    model_dir = model_dir or os.path.join(get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = os.path.join(model_dir, os.path.basename(urlparse(filename).path))
    rank, world_size = get_dist_info()

    def fetch() -> None:
        if not os.path.exists(cached):
            download_url_to_file(filename, cached, progress=progress)

    if rank == 0:
        fetch()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            fetch()
    return safe_load(cached, map_location, name=filename)


def _load_from_ceph(filename: str,
                    map_location: Any = None,
                    backend: str = 'petrel') -> Any:
    from mmengine.fileio import get_file_backend
    file_backend = get_file_backend(
        filename, backend_args={'backend': backend})
    return safe_load(io.BytesIO(file_backend.get(filename)), map_location,
                     name=filename)


def register_safe_loaders() -> None:
    """Route mmengine's checkpoint schemes through :func:`safe_load`.

    ``load_from_mmcls``, ``load_from_openmmlab`` and ``load_from_torchvision``
    call the module-level ``load_from_http``, which is replaced too.
    """
    from mmengine.runner import checkpoint as ckpt
    loaders: List[tuple] = [('', _load_from_local),
                            (('http://', 'https://'), _load_from_http),
                            (('s3://', 'petrel://'), _load_from_ceph)]
    for prefixes, loader in loaders:
        ckpt.CheckpointLoader.register_scheme(prefixes, loader, force=True)
    ckpt.load_from_local = _load_from_local
    ckpt.load_from_http = _load_from_http
    ckpt.load_from_ceph = _load_from_ceph


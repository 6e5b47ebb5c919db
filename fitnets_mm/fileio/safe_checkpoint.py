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
:func:`allow_mmengine_globals` adds :data:`ALLOWED_GLOBALS` to torch's
allow-list, so that a plain ``torch.load`` reads mmengine checkpoints;
:mod:`.checkpoint_loaders` routes mmengine's ``CheckpointLoader`` through
:func:`load_checkpoint_dict`.
"""
import contextlib
import errno
import io
import os
import pickle
import re
import pickletools
import struct
import threading
import zipfile
from typing import Any, List, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


__all__ = [
    'ALLOWED_GLOBALS', 'CorruptCheckpointError', 'NotACheckpointError',
    'UnsafeCheckpointError', 'allow_for_mmrazor', 'allow_mmengine_globals',
    'load_checkpoint_dict', 'safe_load'
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a type outside the allow-list to be unpickled."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file is truncated, damaged or not a checkpoint."""


class NotACheckpointError(CorruptCheckpointError):
    """A loadable file that holds no checkpoint dict (a bare tensor, a
    list ...)."""


# What the allow-listed ``getattr`` refused during the current load: torch
# wraps the error it raises into a generic one, so it is kept here too.
_REFUSED_HERE = threading.local()


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as an mmengine checkpoint uses it, and nothing more.

    ``HistoryBuffer`` pickles its statistics methods (``min``, ``mean`` ...)
    as ``getattr(HistoryBuffer, 'min')``. This stand-in for
    ``builtins.getattr`` answers only those lookups, so the allow-list does
    not hand a general attribute walk to the file.
    """
    if obj is HistoryBuffer and name in _statistics_names():
        return getattr(obj, name)
    what = getattr(obj, '__qualname__', None) or type(obj).__qualname__
    refused = f'getattr({what}, {name!r})'
    if hasattr(_REFUSED_HERE, 'calls'):
        _REFUSED_HERE.calls.append(refused)
    raise UnsafeCheckpointError(
        f'{refused} is not allowed in a checkpoint; only the HistoryBuffer '
        f'statistics {_statistics_names()} may be looked up')


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
    r'GLOBAL (\S+)|reduce for unrecognized function (<[^>]*>|\S+)|'
    r'Can only (?:build|create new object)\b.*?but got (.+)$', re.I | re.M)


def _offending_type(message: str) -> Optional[str]:
    """The type a weights-only error refused, or None if it refused none."""
    match = _REFUSED.search(message)
    if match is None:
        return None
    found = next(g for g in match.groups() if g).rstrip('.,')
    # ``<function HistoryBuffer.min at 0x...>`` -> ``HistoryBuffer.min``
    named = re.match(r"<(?:function|class|built-in function|built-in "
                     r"method|bound method) '?([\w.]+)'?", found)
    return named.group(1) if named else found


def _torch_reason(message: str) -> str:
    """torch's own reason of a weights-only error, without its advice
    (re-running with ``weights_only=False`` would run any code in the
    file)."""
    reason = message.split('WeightsUnpickler error:')[-1]
    reason = reason.split('Check the documentation of torch.load')[0]
    lines = [line.strip() for line in reason.splitlines()
             if line.strip() and 'weights_only' not in line]
    return ' '.join(lines) or 'unreadable pickle data'


def _pickle_globals(data: bytes) -> List[str]:
    """Every global (``module.name``) the pickles in ``data`` import.

    Read statically with :mod:`pickletools`: nothing is imported or run.
    Successive pickles (torch's legacy format) are read until one fails.
    """
    found: List[str] = []
    stream = io.BytesIO(data)
    while stream.tell() < len(data) and len(found) < 1000:
        strings: List[Any] = []
        memo: dict = {}
        last: Any = None
        try:
            for op, arg, _ in pickletools.genops(stream):
                if op.name in ('GLOBAL', 'INST'):
                    found.append(str(arg).replace(' ', '.'))
                elif op.name == 'STACK_GLOBAL' and len(strings) >= 2:
                    found.append(f'{strings[-2]}.{strings[-1]}')
                if 'UNICODE' in op.name or 'STRING' in op.name:
                    strings.append(arg)
                    last = arg
                elif op.name == 'MEMOIZE':
                    memo[len(memo)] = last
                elif op.name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
                    memo[arg] = last
                elif op.name in ('GET', 'BINGET', 'LONG_BINGET'):
                    last = memo.get(arg)
                    strings.append(last)
                else:
                    last = None
        except Exception:  # noqa: BLE001  (no more pickles)
            break
    return found


def _allowed_global_names() -> set:
    """``module.name`` of every global the weights-only loader accepts."""
    names = set()
    with contextlib.suppress(Exception):
        from torch import _weights_only_unpickler as wou
        names.update(wou._get_allowed_globals())
    for entry in ALLOWED_GLOBALS:
        if isinstance(entry, tuple):
            names.add(entry[1])
        else:
            names.add(f'{entry.__module__}.{entry.__qualname__}')
    return names


def _pickles_of(file: Any) -> List[bytes]:
    """The pickle streams of ``file`` (a zip checkpoint's ``*.pkl``
    members, or the whole legacy file); [] if unreadable."""
    try:
        if isinstance(file, (str, os.PathLike)) and zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as archive:
                return [archive.read(n) for n in archive.namelist()
                        if n.endswith('.pkl')]
        if isinstance(file, (str, os.PathLike)):
            with open(file, 'rb') as f:
                data = f.read()
        else:
            file.seek(0)
            data = file.read()
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return [archive.read(n) for n in archive.namelist()
                        if n.endswith('.pkl')]
        return [data]
    except Exception:  # noqa: BLE001  (damaged beyond reading)
        return []


def _allowlist_abuse(file: Any) -> Optional[str]:
    """A use of the allow-listed ``getattr`` beyond the ``HistoryBuffer``
    statistics in ``file`` (any protocol, see :mod:`.pickle_allowlist_scan`),
    found without unpickling: ``"the call getattr(...)"`` or ``"the type
    '...'"``; None if none (or unreadable)."""
    # Loaded on its own, as the start-up hook loads this module (importing
    # the package here would import all of fitnets_mm).
    from fitnets_mm_startup import feature_module
    find_allowlist_abuse = feature_module(
        'fileio.pickle_allowlist_scan').find_allowlist_abuse
    allowed = _allowed_global_names()
    history_buffer = \
        f'{HistoryBuffer.__module__}.{HistoryBuffer.__qualname__}'
    return find_allowlist_abuse(
        _pickles_of(file),
        lambda name: name in allowed or name.startswith('torch.'),
        lambda owner, attribute: owner == history_buffer and
        attribute in _statistics_names())


def _unsafe_global(file: Any) -> Optional[str]:
    """The first global that ``file``'s pickles import and the loader does
    not allow, found without unpickling; None if none or unreadable."""
    allowed = _allowed_global_names()
    for pickled in _pickles_of(file):
        for name in _pickle_globals(pickled):
            if name not in allowed and not name.startswith('torch.'):
                return name
    return None


def _static_refusal(file: Any, torch_message: str = '') -> Optional[str]:
    """What ``file`` needs that the loader refuses, as the refusal names
    it: an abuse of the allow-list first (the same words in every
    protocol), then the type torch's error names, then a global outside
    the allow-list; None if none."""
    abuse = _allowlist_abuse(file)
    if abuse is not None:
        return abuse
    offending = _offending_type(torch_message) or _unsafe_global(file)
    return None if offending is None else f'the type {offending!r}'


def _refusal(name: str, what: str) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f'Refused to load checkpoint {name} as unsafe: it needs {what}, '
        'which an mmengine checkpoint never holds. '
        'Unpickling it could run code; nothing in it was executed. Use '
        'only checkpoints from a source you trust, saved as plain state '
        'dicts.')


def _not_yet_allowed() -> List[Any]:
    """The part of :data:`ALLOWED_GLOBALS` not in torch's process-wide
    allow-list: what a scoped ``safe_globals`` may add and, on leaving,
    remove again without undoing :func:`allow_mmengine_globals`."""
    present = torch.serialization.get_safe_globals()
    return [g for g in ALLOWED_GLOBALS if g not in present]


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
    _REFUSED_HERE.calls = []
    try:
        with torch.serialization.safe_globals(_not_yet_allowed()):
            return torch.load(file, map_location=map_location,
                              weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as err:
        text = str(err)
        if _REFUSED_HERE.calls:
            raise _refusal(name, f'the call {_REFUSED_HERE.calls[0]}'
                           ) from None
        offending = _static_refusal(file, text)
        if offending is not None:
            raise _refusal(name, offending) from None
        raise CorruptCheckpointError(
            f'Checkpoint {name} is damaged or not a PyTorch checkpoint: '
            f'{_torch_reason(text)}') from None
    except (EOFError, zipfile.BadZipFile, RuntimeError, ValueError, OSError,
            IndexError, KeyError, TypeError, AttributeError,
            struct.error) as err:
        if isinstance(err, OSError) and err.errno is not None and \
                not isinstance(err, zipfile.BadZipFile) and \
                err.errno != errno.EINVAL:
            raise  # a disk or permission error, not a damaged file
        # torch's zip reader and the weights-only unpickler fail on damaged
        # bytes with any of these (e.g. ``OSError: Invalid argument`` for a
        # file cut early, ``IndexError`` for text).
        offending = _static_refusal(file)
        if offending is not None:
            raise _refusal(name, offending) from None
        raise CorruptCheckpointError(
            f'Checkpoint {name} is truncated, damaged or not a PyTorch '
            f'checkpoint ({type(err).__name__}: {err})') from None


def load_checkpoint_dict(file: Union[str, os.PathLike, io.IOBase],
                         map_location: Optional[Any] = None,
                         name: Optional[str] = None) -> dict:
    """:func:`safe_load` a file that must hold a checkpoint dict.

    Every checkpoint entry point (``teacher_ckpt``, ``load_from``,
    ``--resume``, ``tools/test.py``, the student exporter) goes through it,
    so a loadable file with something else in it (a bare tensor, a list) is
    named and refused before mmengine looks up keys in it.

    Args:
        file (str | PathLike | file-like): The checkpoint.
        map_location (Any, optional): As in :func:`torch.load`.
            Defaults to None.
        name (str, optional): How to name the file in errors.
            Defaults to ``str(file)``.

    Returns:
        dict: The checkpoint (a state dict, or mmengine's
        ``{'state_dict': ..., 'meta': ...}``).

    Raises:
        IsADirectoryError: ``file`` is a folder.
        NotACheckpointError: The file holds no dict.
        UnsafeCheckpointError: See :func:`safe_load`.
        CorruptCheckpointError: See :func:`safe_load`.
    """
    name = name or str(getattr(file, 'name', file))
    if isinstance(file, (str, os.PathLike)) and os.path.isdir(file):
        raise IsADirectoryError(
            f'{name} is a directory; expected a checkpoint file such as '
            f'{os.path.join(name, "epoch_N.pth")} (to resume the latest '
            f'checkpoint of a work dir: --resume --work-dir {name}).')
    checkpoint = safe_load(file, map_location, name=name)
    if not isinstance(checkpoint, dict):
        raise NotACheckpointError(
            f'{name} holds a {type(checkpoint).__module__}.'
            f'{type(checkpoint).__qualname__}, not a checkpoint: expected a '
            "dict (a state dict, or {'state_dict': ..., 'meta': ...} as "
            'mmengine saves it).')
    return checkpoint


def allow_mmengine_globals() -> None:
    """Add :data:`ALLOWED_GLOBALS` to torch's weights-only allow-list.

    Process-wide (``torch.serialization.add_safe_globals``): every plain
    ``torch.load`` of an mmengine checkpoint then works on torch >= 2.6,
    mmengine's own loaders, MMRazor's EMA tests and converter included. The
    list holds only data types (``HistoryBuffer``, NumPy arrays, scalars and
    dtypes) and a ``getattr`` that answers the ``HistoryBuffer`` statistics
    lookups alone, so a file that needs anything else is still refused.
    Announced with the first checkpoint loaded through mmengine (not at
    import: nothing is logged until a fix acts).
    """
    torch.serialization.add_safe_globals(ALLOWED_GLOBALS)


def allow_for_mmrazor(module: Any = None) -> None:
    """:func:`allow_mmengine_globals` when MMRazor is imported, and say so.

    Called by the import hook of :mod:`fitnets_mm_startup` on
    ``import mmrazor`` (without fitnets_mm imported): MMRazor's
    ``tools/train.py --resume`` and its EMA tests load mmengine checkpoints
    with a plain ``torch.load``, which is weights-only on torch >= 2.6.

    Args:
        module (ModuleType, optional): The ``mmrazor`` package (unused).
            Defaults to None.
    """
    allow_mmengine_globals()
    from fitnets_mm_startup import announce
    announce(
        'safe_checkpoint', "torch's weights-only allow-list now holds "
        "mmengine's checkpoint types (HistoryBuffer, its statistics "
        'getattr, NumPy arrays, scalars and dtypes), so that MMRazor loads '
        'mmengine checkpoints (--resume, EMA) on this torch',
        key='safe_checkpoint.mmrazor')

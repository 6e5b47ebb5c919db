"""Atomic checkpoint writes, and a ``--resume auto`` that survives a kill.

mmengine 0.10.7 has two weak points when a job is killed (SIGKILL,
preemption, a full disk) while it saves:

1. ``save_checkpoint`` hands the bytes to the local file backend, whose
   ``LocalBackend.put`` opens ``epoch_N.pth`` with ``open(path, 'wb')`` and
   writes into it: a kill leaves a truncated file under the real name.
2. ``CheckpointHook`` then writes ``work_dir/last_checkpoint`` with a plain
   ``open(..., 'w')``, and ``--resume auto`` (``Runner.load_or_resume``)
   trusts whatever ``find_latest_checkpoint`` reads from it: an empty or
   partial name, or the name of a damaged file, makes the resume fail.

:func:`patch_atomic_checkpoint` fixes both:

* :class:`AtomicLocalBackend` replaces ``LocalBackend`` for local paths
  (registered under ``'local'`` and the empty prefix, as mmengine registers
  its own), so every local ``put``/``put_text``, checkpoints included,
  writes a temporary file in the same folder, flushes it to disk (``fsync``)
  and renames it over the target with :func:`os.replace`. A file under a
  checkpoint's name is therefore always complete.
* :func:`find_latest_checkpoint` replaces mmengine's function of that name
  in ``mmengine.runner.checkpoint`` and where it was imported by name
  (``mmengine.runner``, its ``runner`` and ``_flexible_runner`` modules).
  It uses ``last_checkpoint`` when that names a loadable checkpoint. When
  the file is empty or partial, or names a missing or damaged checkpoint,
  it logs why and falls back to the newest loadable checkpoint
  (``*.pth``) in the work directory that holds the whole training state
  (:data:`TRAINING_STATE`: never a ``best_*.pth``, which has no optimizer).
* A write killed before its rename leaves a hidden temporary file
  (``.NAME.tmp.PID@HOST``), never taken for a checkpoint;
  :func:`remove_stale_temporaries` removes those of dead processes before
  every write and on ``--resume auto``.

Note:
    A rename replaces a symbolic link at the target path instead of writing
    through it.
"""
import contextlib
import glob
import logging
import os
import os.path as osp
import re
import socket
import time
from pathlib import Path
from typing import List, Optional, Union

from mmengine.dist import get_rank
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.logging import print_log

from .safe_checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                              safe_load)
from ..compat.switches import announce_once

__all__ = [
    'AtomicLocalBackend', 'STALE_AFTER_S', 'TRAINING_STATE', 'atomic_write',
    'find_latest_checkpoint', 'patch_atomic_checkpoint',
    'remove_stale_temporaries', 'temporary_name'
]

#: Seconds after which any leftover temporary is removed, whoever wrote it.
STALE_AFTER_S = 24 * 3600.0
_TEMPORARY = re.compile(r'^\..+\.tmp\.(?P<pid>\d+)(?:@(?P<host>.+))?$')


def _fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (where the OS allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def temporary_name(filepath: str) -> str:
    """The hidden file :func:`atomic_write` writes before the rename:
    ``.NAME.tmp.PID@HOST`` next to ``filepath``."""
    directory, name = osp.split(osp.abspath(filepath))
    return osp.join(directory,
                    f'.{name}.tmp.{os.getpid()}@{socket.gethostname()}')


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(directory: str,
                             max_age_s: float = STALE_AFTER_S) -> List[str]:
    """Remove what killed writes left in ``directory``.

    A ``.NAME.tmp.PID[@HOST]`` file is removed when its process, on this
    host, is gone, or when it was not written for ``max_age_s`` (a process
    on another host that shares the folder). The temporaries of live
    writers are left alone.

    Args:
        directory (str): The folder (e.g. the work dir).
        max_age_s (float): Age after which any temporary is stale.
            Defaults to :data:`STALE_AFTER_S` (one day).

    Returns:
        list[str]: The removed files.
    """
    removed = []
    host = socket.gethostname()
    now = time.time()
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None:
            continue
        path = osp.join(directory, name)
        pid, owner = int(match.group('pid')), match.group('host')
        try:
            age = now - os.stat(path).st_mtime
        except OSError:
            continue
        dead = owner in (None, host) and pid != os.getpid() and \
            not _pid_alive(pid)
        if dead or age > max_age_s:
            with contextlib.suppress(OSError):
                os.remove(path)
                removed.append(path)
    if removed:
        print_log(f'Removed {len(removed)} temporary file(s) left by killed '
                  f'writes: {removed}', logger='current',
                  level=logging.WARNING)
    return removed


def atomic_write(filepath: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``filepath`` so that it is whole or not there.

    The bytes go to a hidden temporary file in the same folder
    (:func:`temporary_name`), are flushed to disk, and the file is renamed
    over ``filepath`` (atomic on POSIX and Windows). A reader sees the old
    file or the new one, never a part. Temporaries that killed writes left
    in the folder are removed first (:func:`remove_stale_temporaries`).

    Args:
        filepath (str | Path): The target; missing folders are created.
        data (bytes): The contents.

    Raises:
        OSError: The write failed (a full disk, say); the message names
            ``filepath``, and the file there, if any, is unchanged.
    """
    filepath = os.fspath(filepath)
    announce_once('atomic_checkpoint', 'local files, checkpoints included, '
                  'are written to a temporary file and renamed into place')
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(directory)
    tmp = temporary_name(filepath)
    try:
        # 0o666 & ~umask, the mode a plain ``open(path, 'wb')`` would give.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(err, OSError):
            raise type(err)(
                err.errno, f'{err.strerror or err} while writing {filepath} '
                f'({len(data)} bytes); the file there, if any, is unchanged'
            ) from None
        raise
    _fsync_dir(directory)


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose writes are atomic.

    ``put`` and ``put_text`` go through :func:`atomic_write`; everything else
    is inherited unchanged.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically (see :func:`atomic_write`).

        Args:
            obj (bytes): Data to be written.
            filepath (str | Path): Path to write data.
        """
        atomic_write(filepath, obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically.

        Args:
            obj (str): Text to be written.
            filepath (str | Path): Path to write the text.
            encoding (str): The encoding. Defaults to ``'utf-8'``.
        """
        atomic_write(filepath, obj.encode(encoding))


#: What a checkpoint needs for an exact resume: ``CheckpointHook``'s
#: regular checkpoints have it all; ``best_*.pth`` (saved without the
#: optimizer) and exported weights do not.
TRAINING_STATE = ('state_dict', 'message_hub', 'optimizer', 'meta')


def _check_loadable(path: str, keys: tuple = ('state_dict',
                                               'message_hub')) -> None:
    """Raise unless ``path`` is a complete checkpoint holding ``keys``.

    Raises:
        FileNotFoundError: No such file.
        CorruptCheckpointError: Truncated, damaged, or without ``keys``.
        UnsafeCheckpointError: Refused by the weights-only loader.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist')
    checkpoint = safe_load(path, map_location='cpu')
    missing = [k for k in keys if not isinstance(checkpoint, dict) or
               k not in checkpoint]
    if missing:
        raise CorruptCheckpointError(
            f'{path} is not a training checkpoint: it has no {missing} (a '
            'regular checkpoint of Runner.save_checkpoint has '
            f'{list(keys)})')


def _candidates(folders: List[str]) -> List[str]:
    """``*.pth`` files in ``folders``, newest first."""
    found = set()
    for folder in folders:
        found.update(
            osp.abspath(p) for p in glob.glob(osp.join(folder, '*.pth'))
            if osp.isfile(p))
    return sorted(found, key=lambda p: (os.stat(p).st_mtime_ns, p),
                  reverse=True)


def find_latest_checkpoint(path: str) -> Optional[str]:
    """The checkpoint ``--resume auto`` should resume from, or None.

    As mmengine's function of that name, this reads ``path/last_checkpoint``
    and returns None when it does not exist. When it is empty or partial, or
    names a missing or damaged checkpoint, the newest loadable checkpoint
    with the whole training state (:data:`TRAINING_STATE`) in ``path`` (and
    in the folder ``last_checkpoint`` points to) is returned instead, and
    the fallback is logged. Temporaries of killed writes in ``path`` are
    removed (on rank 0).

    Args:
        path (str): The work directory.

    Returns:
        str | None: File path of the checkpoint to resume from.

    Raises:
        UnsafeCheckpointError: ``last_checkpoint`` names a file that the
            weights-only loader refuses; it is not silently skipped.
    """
    save_file = osp.join(path, 'last_checkpoint')
    if get_rank() == 0:
        remove_stale_temporaries(path)
    if not osp.exists(save_file):
        print_log('Did not find last_checkpoint to be resumed.',
                  logger='current')
        return None
    with open(save_file, encoding='utf-8', errors='replace') as f:
        last_saved = f.read().strip()
    folders = [path]
    if last_saved:
        try:
            _check_loadable(last_saved)
            return last_saved
        except (FileNotFoundError, CorruptCheckpointError) as err:
            reason = f'it names {last_saved!r}, which cannot be used ({err})'
        folders.append(osp.dirname(osp.abspath(last_saved)))
    else:
        reason = 'it is empty (the job was probably killed while writing it)'
    print_log(
        f'{save_file} cannot be used: {reason}. Looking for the newest '
        'loadable checkpoint instead.',
        logger='current',
        level=logging.WARNING)
    for candidate in _candidates(folders):
        try:
            # Only checkpoints with the whole training state: resuming
            # from, e.g., best_*.pth would silently reset the optimizer.
            _check_loadable(candidate, TRAINING_STATE)
        except (FileNotFoundError, CorruptCheckpointError,
                UnsafeCheckpointError) as err:
            print_log(f'Skipping {candidate}: {err}', logger='current',
                      level=logging.WARNING)
            continue
        print_log(f'Resuming from {candidate}, the newest loadable '
                  'checkpoint.', logger='current', level=logging.WARNING)
        return candidate
    print_log(f'No loadable checkpoint in {folders}; training starts from '
              'the beginning.', logger='current', level=logging.WARNING)
    return None


def patch_atomic_checkpoint() -> None:
    """Install the atomic local backend, the robust
    ``find_latest_checkpoint`` and the removal of the previous best
    checkpoint after the new one is saved (:mod:`fitnets_mm.compat.best_checkpoint_order`)
    (idempotent)."""
    import importlib

    from ..compat.best_checkpoint_order import patch_best_checkpoint_order
    patch_best_checkpoint_order()
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    # Every module that imported mmengine's function by name.
    for name in ('mmengine.runner', 'mmengine.runner.checkpoint',
                 'mmengine.runner.runner', 'mmengine.runner._flexible_runner'):
        with contextlib.suppress(ImportError):
            module = importlib.import_module(name)
            if hasattr(module, 'find_latest_checkpoint'):
                module.find_latest_checkpoint = find_latest_checkpoint

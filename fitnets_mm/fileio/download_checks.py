"""What a download must be before it is cached: a checkpoint, an archive.

:func:`fitnets_mm.fileio.downloads.download` writes to a temporary file and
calls a ``check`` on it before the rename. The checks here refuse an answer
that is not the file asked for, and say what came back (``an HTML page,
88 bytes``), so that a login page or an error page served with HTTP 200 is
never cached as a teacher checkpoint or a data set.
"""
import gzip
import hashlib
import os
import tarfile
import zipfile
from typing import Callable, Optional

from .downloads import DownloadError

__all__ = [
    'NotTheFileError', 'archive_check', 'checkpoint_check', 'describe_answer'
]

_HTML_MARKS = (b'<!doctype html', b'<html', b'<head', b'<body', b'<title')


class NotTheFileError(DownloadError):
    """The server answered, but not with the file that was asked for."""


def describe_answer(path: str) -> str:
    """What a downloaded file is, in a few words.

    Args:
        path (str): The file.

    Returns:
        str: ``'an HTML page, 88 bytes'``, ``'a text answer, 12 bytes'``,
        ``'an empty answer'`` or ``'1024 bytes'``.
    """
    size = os.path.getsize(path)
    if size == 0:
        return 'an empty answer'
    with open(path, 'rb') as f:
        head = f.read(2048)
    lowered = head.lstrip().lower()
    if any(mark in lowered for mark in _HTML_MARKS):
        return f'an HTML page, {size} bytes'
    try:
        head.decode('utf-8')
        text = all(c >= 32 or c in b'\t\r\n' for c in head)
    except UnicodeDecodeError:
        text = False
    if text:
        return f'a text answer, {size} bytes'
    return f'{size} bytes'


def checkpoint_check(url: str) -> Callable[[str], None]:
    """A ``check`` that accepts only a loadable checkpoint dict.

    Args:
        url (str): The URL, to name in errors.

    Returns:
        Callable[[str], None]: Raises :class:`NotTheFileError` for anything
        that is not a PyTorch checkpoint, and
        :class:`~fitnets_mm.fileio.safe_checkpoint.UnsafeCheckpointError`
        for a file the safe loader refuses.
    """
    from .safe_checkpoint import CorruptCheckpointError, load_checkpoint_dict

    def check(path: str) -> None:
        try:
            load_checkpoint_dict(path, map_location='cpu', name=url)
        except CorruptCheckpointError as err:
            raise NotTheFileError(
                f'Could not download {url}: the server answered '
                f'{describe_answer(path)}, not a PyTorch checkpoint '
                f'({err}); nothing was cached') from None

    return check


def _md5(path: str) -> str:
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _archive_problem(path: str, name: str) -> Optional[str]:
    """Why ``path`` (to be saved as ``name``) is no valid archive, or
    None."""
    try:
        if name.endswith(('.tar.gz', '.tgz', '.tar', '.tar.bz2', '.tar.xz')):
            with tarfile.open(path) as archive:
                if not archive.getmembers():
                    return 'an empty tar archive'
        elif name.endswith('.gz'):
            with gzip.open(path, 'rb') as f:
                while f.read(1 << 20):
                    pass
        elif name.endswith('.zip'):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
                if bad is not None:
                    return f'a zip archive whose member {bad} is damaged'
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as err:
        reason = ' '.join(str(err).split())  # one line
        return f'not a valid archive ({type(err).__name__}: {reason})'
    return None


def archive_check(url: str, name: str,
                  md5: Optional[str] = None) -> Callable[[str], None]:
    """A ``check`` for a data set archive: its md5 where given, and an
    archive that reads to its end (``.tar.gz``, ``.gz``, ``.zip``).

    Args:
        url (str): The URL, to name in errors.
        name (str): The file name it is saved as (gives the format).
        md5 (str, optional): The expected md5. Defaults to None.

    Returns:
        Callable[[str], None]: Raises :class:`NotTheFileError`.
    """

    def check(path: str) -> None:
        problem = _archive_problem(path, name)
        if problem is None and md5 and _md5(path) != md5:
            problem = f'its md5 is not {md5}'
        if problem is not None:
            raise NotTheFileError(
                f'Could not download {url}: the server answered '
                f'{describe_answer(path)}, {problem}; nothing was kept')

    return check

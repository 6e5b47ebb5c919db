"""Downloads with a timeout, a cache keyed by the full URL, and hash checks.

mmengine 0.10.7 downloads URL checkpoints (``teacher_ckpt``, ``load_from``,
``mmcls://`` ...) with ``torch.hub.download_url_to_file`` and MMPretrain
downloads CIFAR-10 / MNIST with its own copy of it. Both have three
problems this module fixes:

1. **No timeout.** ``urlopen`` without ``timeout`` waits forever for a
   server that accepts the connection and never answers (and in a
   distributed run every rank waits). :func:`download` passes a connect and
   read timeout, :func:`download_timeout` seconds, set by the environment
   variable ``FITNETS_MM_DOWNLOAD_TIMEOUT`` (default 60).
2. **A cache keyed by the file name.** mmengine caches
   ``http://a/teacher/epoch_1.pth`` and ``http://b/student/epoch_1.pth`` as
   the same ``checkpoints/epoch_1.pth``, so the second URL silently loads
   the first file. :func:`url_cache_path` keys the cache by a hash of the
   full URL, and keeps the file name:
   ``checkpoints/<sha256(url)[:16]>/epoch_1.pth``.
3. **Unchecked OpenMMLab hashes.** Zoo names end in the first hex digits of
   the file's SHA-256 (``resnet18_..._20210528-bd6371c8.pth``);
   :func:`download` and :func:`fetch_url` check them, for fresh downloads
   and for files already in the cache.

4. **No overall deadline.** A server that sends its headers, then one byte
   every few seconds, never trips the read timeout. Every download must end
   within :func:`download_deadline` seconds, set by
   ``FITNETS_MM_DOWNLOAD_DEADLINE`` (default 3600: a 1 GB file at
   300 kB/s).
5. **Partial or wrong answers are cached.** A download shorter than its
   ``Content-Length``, or an HTTP 200 answer that is not the file (an HTML
   login page), would become the cached file and be reused. The bytes go
   to a hidden temporary file that becomes the target only after its
   checks: the length the server announced, the ``-HASH`` of the name, and
   the caller's ``check`` (a loadable checkpoint, a valid archive; see
   :mod:`.download_checks`). A cached file that fails its ``check`` is
   moved aside and downloaded again, once, with a warning in the log.

A failed download raises :class:`DownloadError`, one line that names the
URL, the reason and where the file could be put instead; nothing is left
under the target name.
"""
import contextlib
import hashlib
import os
import os.path as osp
import re
import shlex
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Optional
from urllib.parse import urlparse

__all__ = [
    'DEFAULT_DOWNLOAD_DEADLINE', 'DEFAULT_DOWNLOAD_TIMEOUT', 'DownloadError',
    'download', 'download_deadline', 'download_timeout',
    'expected_hash_prefix', 'fetch_url', 'url_cache_path'
]

#: Seconds to wait for a connection and for each read, unless
#: ``FITNETS_MM_DOWNLOAD_TIMEOUT`` says otherwise.
DEFAULT_DOWNLOAD_TIMEOUT = 60.0
#: Seconds a whole download may take, unless
#: ``FITNETS_MM_DOWNLOAD_DEADLINE`` says otherwise.
DEFAULT_DOWNLOAD_DEADLINE = 3600.0

# ``name-0123abcd.pth``: OpenMMLab's (and torch.hub's) SHA-256 prefix.
_HASH_SUFFIX = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z0-9]+$')
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A file could not be downloaded (refused, timed out, wrong hash)."""


def _seconds_from_env(variable: str, default: float) -> float:
    """A positive number of seconds from ``variable``, else ``default``."""
    text = os.environ.get(variable)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f'{variable} must be a positive number of seconds, '
                         f'but got {text!r}')
    return value


def download_timeout() -> float:
    """The connect and read timeout of downloads, in seconds.

    Returns:
        float: ``FITNETS_MM_DOWNLOAD_TIMEOUT`` if set, else
        :data:`DEFAULT_DOWNLOAD_TIMEOUT`.

    Raises:
        ValueError: The variable is not a positive number.
    """
    return _seconds_from_env('FITNETS_MM_DOWNLOAD_TIMEOUT',
                             DEFAULT_DOWNLOAD_TIMEOUT)


def download_deadline() -> float:
    """How long a whole download may take, in seconds.

    Returns:
        float: ``FITNETS_MM_DOWNLOAD_DEADLINE`` if set, else
        :data:`DEFAULT_DOWNLOAD_DEADLINE`.

    Raises:
        ValueError: The variable is not a positive number.
    """
    return _seconds_from_env('FITNETS_MM_DOWNLOAD_DEADLINE',
                             DEFAULT_DOWNLOAD_DEADLINE)


def expected_hash_prefix(filename: str) -> Optional[str]:
    """The SHA-256 prefix an OpenMMLab-style file name promises, or None.

    Args:
        filename (str): A file name or URL, e.g.
            ``resnet18_b16x8_cifar10_20210528-bd6371c8.pth``.

    Returns:
        str | None: ``'bd6371c8'``, or None if the name has no ``-HASH``.
    """
    match = _HASH_SUFFIX.search(osp.basename(urlparse(filename).path))
    return match.group(1) if match else None


def url_cache_path(url: str, model_dir: str) -> str:
    """Where the download of ``url`` is cached under ``model_dir``.

    Args:
        url (str): The URL.
        model_dir (str): The cache folder (e.g. ``$TORCH_HOME/hub/
            checkpoints``).

    Returns:
        str: ``model_dir/<first 16 hex digits of sha256(url)>/<file name>``.
    """
    key = hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]
    name = osp.basename(urlparse(url).path) or 'download'
    return osp.join(model_dir, key, name)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _check_hash(path: str, what: str, prefix: Optional[str]) -> None:
    """Raise unless ``path``'s SHA-256 starts with ``prefix`` (if any);
    ``what`` names the file in the error."""
    if not prefix:
        return
    actual = _sha256(path)
    if not actual.startswith(prefix):
        raise DownloadError(
            f'{what} has SHA-256 {actual[:len(prefix)]}..., but its name '
            f'promises {prefix}: the file is damaged or not the one the '
            'name says')


def _receive(url: str, tmp: str, timeout: float, cancel: threading.Event,
             state: Dict[str, Any]) -> None:
    """Write the answer to ``url`` to ``tmp`` (runs in a worker thread);
    ``state`` gets ``received``, ``declared`` and ``error``."""
    try:
        request = urllib.request.Request(
            url, headers={'User-Agent': 'fitnets_mm'})
        with urllib.request.urlopen(request, timeout=timeout) as response, \
                open(tmp, 'wb') as f:
            length = response.headers.get('Content-Length')
            if length and length.isdigit() and \
                    not response.headers.get('Content-Encoding'):
                state['declared'] = int(length)
            read = getattr(response, 'read1', response.read)
            while not cancel.is_set():
                chunk = read(_CHUNK)  # what one read gives: a drip ends it
                if not chunk:
                    break
                f.write(chunk)
                state['received'] += len(chunk)
    except BaseException as err:  # noqa: BLE001  (reported by download)
        state['error'] = err


def download(url: str,
             dst: str,
             timeout: Optional[float] = None,
             hash_prefix: Optional[str] = None,
             deadline: Optional[float] = None,
             check: Optional[Callable[[str], None]] = None) -> None:
    """Download ``url`` to ``dst``, whole and verified or not at all.

    Args:
        url (str): An ``http(s)://`` or ``file://`` URL.
        dst (str): The file to write; missing folders are created.
        timeout (float, optional): Connect and read timeout in seconds.
            Defaults to :func:`download_timeout`.
        hash_prefix (str, optional): Expected start of the SHA-256 (hex);
            ``''`` for no check. Defaults to :func:`expected_hash_prefix` of
            ``url``.
        deadline (float, optional): Seconds the whole download may take.
            Defaults to :func:`download_deadline`.
        check (Callable[[str], None], optional): Called with the complete
            temporary file; raises if it is not what was asked for (see
            :mod:`.download_checks`). Defaults to None (no check).

    Raises:
        DownloadError: Refused, unreachable, timed out, past the deadline,
            shorter than its ``Content-Length``, an HTTP error, or a hash
            mismatch; ``dst`` is left as it was.
        Exception: Whatever ``check`` raises; ``dst`` is left as it was.
    """
    timeout = download_timeout() if timeout is None else timeout
    deadline = download_deadline() if deadline is None else deadline
    if hash_prefix is None:
        hash_prefix = expected_hash_prefix(url)
    from .atomic_checkpoint import remove_stale_temporaries, temporary_name
    folder = osp.dirname(osp.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    tmp = temporary_name(dst)
    cancel = threading.Event()
    state: Dict[str, Any] = dict(received=0, declared=None, error=None)
    # A worker thread, so that the deadline holds whatever the server does
    # (a drip of header bytes included); it stops at its next read.
    worker = threading.Thread(
        target=_receive, args=(url, tmp, min(timeout, deadline), cancel,
                               state), name='fitnets_mm-download',
        daemon=True)
    start = time.monotonic()
    try:
        worker.start()
        worker.join(deadline)
        if worker.is_alive():
            cancel.set()
            raise DownloadError(
                f'Could not download {url}: not complete within the '
                f'deadline of {deadline:g} s ({state["received"]} bytes '
                'received; set FITNETS_MM_DOWNLOAD_DEADLINE=SECONDS to allow '
                'longer)')
        err = state['error']
        if isinstance(err, (urllib.error.URLError, socket.timeout,
                            ConnectionError, TimeoutError)):
            reason = getattr(err, 'reason', err)
            if isinstance(reason, (socket.timeout, TimeoutError)) or \
                    isinstance(err, (socket.timeout, TimeoutError)):
                reason = (f'no answer within {min(timeout, deadline):g} s '
                          '(set FITNETS_MM_DOWNLOAD_TIMEOUT=SECONDS to wait '
                          'longer)')
            raise DownloadError(f'Could not download {url}: {reason}')
        if err is not None:
            raise err
        declared, received = state['declared'], state['received']
        if declared is not None and received != declared:
            raise DownloadError(
                f'Could not download {url}: the server sent {received} of '
                f'the {declared} bytes it announced (Content-Length) in '
                f'{time.monotonic() - start:.1f} s; nothing was kept')
        _check_hash(tmp, f'The download of {url}', hash_prefix)
        if check is not None:
            check(tmp)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def _move_aside(path: str, url: str, reason: str) -> None:
    """Rename a cached file that fails its check to ``PATH.damaged`` and
    say so in the log."""
    from mmengine.logging import print_log
    aside = f'{path}.damaged'
    os.replace(path, aside)
    print_log(
        f'The cached copy {path} of {url} does not pass its check '
        f'({reason}); moved it to {aside} and downloading {url} again, '
        'once', logger='current', level=30)


def fetch_url(url: str,
              model_dir: str,
              check: Optional[Callable[[str], None]] = None) -> str:
    """The local copy of ``url`` in the cache, downloaded if missing.

    A file already at :func:`url_cache_path` (downloaded before, or put
    there by hand) is used after its ``-HASH`` is checked, and ``check``
    if given; one that fails ``check`` is moved aside (``PATH.damaged``)
    and downloaded again, once, with a warning in the log.

    Args:
        url (str): The URL.
        model_dir (str): The cache folder.
        check (Callable[[str], None], optional): See :func:`download`.
            Defaults to None.

    Returns:
        str: The path of the cached file.

    Raises:
        DownloadError: See :func:`download`; the message also says where
            the file can be put by hand.
    """
    cached = url_cache_path(url, model_dir)
    if osp.isfile(cached):
        _check_hash(cached, f'{cached} (the cached copy of {url}; delete '
                    f'it to download again: rm {shlex.quote(cached)})',
                    expected_hash_prefix(url))
        if check is None:
            return cached
        try:
            check(cached)
            return cached
        except Exception as err:  # noqa: BLE001  (any failed check)
            _move_aside(cached, url, str(err))
    try:
        download(url, cached, check=check)
    except DownloadError as err:
        raise DownloadError(
            f'{err}. Without network access, put the file at {cached}'
        ) from None
    return cached

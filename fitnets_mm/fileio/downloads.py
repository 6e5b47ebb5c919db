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

A failed download raises :class:`DownloadError`, one line that names the
URL, the reason and where the file could be put instead; nothing partial is
left under the target name (the bytes go to a hidden temporary file that is
renamed into place once complete and verified).
"""
import contextlib
import hashlib
import os
import os.path as osp
import re
import socket
import urllib.error
import urllib.request
from typing import Optional
from urllib.parse import urlparse

__all__ = [
    'DEFAULT_DOWNLOAD_TIMEOUT', 'DownloadError', 'download',
    'download_timeout', 'expected_hash_prefix', 'fetch_url', 'url_cache_path'
]

#: Seconds to wait for a connection and for each read, unless
#: ``FITNETS_MM_DOWNLOAD_TIMEOUT`` says otherwise.
DEFAULT_DOWNLOAD_TIMEOUT = 60.0

# ``name-0123abcd.pth``: OpenMMLab's (and torch.hub's) SHA-256 prefix.
_HASH_SUFFIX = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z0-9]+$')
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A file could not be downloaded (refused, timed out, wrong hash)."""


def download_timeout() -> float:
    """The connect and read timeout of downloads, in seconds.

    Returns:
        float: ``FITNETS_MM_DOWNLOAD_TIMEOUT`` if set, else
        :data:`DEFAULT_DOWNLOAD_TIMEOUT`.

    Raises:
        ValueError: The variable is not a positive number.
    """
    text = os.environ.get('FITNETS_MM_DOWNLOAD_TIMEOUT')
    if text is None:
        return DEFAULT_DOWNLOAD_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError('FITNETS_MM_DOWNLOAD_TIMEOUT must be a positive '
                         f'number of seconds, but got {text!r}')
    return value


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


def download(url: str,
             dst: str,
             timeout: Optional[float] = None,
             hash_prefix: Optional[str] = None) -> None:
    """Download ``url`` to ``dst``, whole and verified or not at all.

    Args:
        url (str): An ``http(s)://`` or ``file://`` URL.
        dst (str): The file to write; missing folders are created.
        timeout (float, optional): Connect and read timeout in seconds.
            Defaults to :func:`download_timeout`.
        hash_prefix (str, optional): Expected start of the SHA-256 (hex);
            ``''`` for no check. Defaults to :func:`expected_hash_prefix` of
            ``url``.

    Raises:
        DownloadError: Refused, unreachable, timed out, an HTTP error, or a
            hash mismatch; ``dst`` is left as it was.
    """
    timeout = download_timeout() if timeout is None else timeout
    if hash_prefix is None:
        hash_prefix = expected_hash_prefix(url)
    from .atomic_checkpoint import remove_stale_temporaries, temporary_name
    folder = osp.dirname(osp.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    tmp = temporary_name(dst)
    try:
        request = urllib.request.Request(
            url, headers={'User-Agent': 'fitnets_mm'})
        with urllib.request.urlopen(request, timeout=timeout) as response, \
                open(tmp, 'wb') as f:
            for chunk in iter(lambda: response.read(_CHUNK), b''):
                f.write(chunk)
        _check_hash(tmp, f'The download of {url}', hash_prefix)
        os.replace(tmp, dst)
    except (urllib.error.URLError, socket.timeout, ConnectionError,
            TimeoutError) as err:
        reason = getattr(err, 'reason', err)
        if isinstance(reason, (socket.timeout, TimeoutError)) or isinstance(
                err, (socket.timeout, TimeoutError)):
            reason = (f'no answer within {timeout:g} s (set '
                      'FITNETS_MM_DOWNLOAD_TIMEOUT=SECONDS to wait longer)')
        raise DownloadError(f'Could not download {url}: {reason}') from None
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def fetch_url(url: str, model_dir: str) -> str:
    """The local copy of ``url`` in the cache, downloaded if missing.

    A file already at :func:`url_cache_path` (downloaded before, or put
    there by hand) is used, after its ``-HASH`` is checked.

    Args:
        url (str): The URL.
        model_dir (str): The cache folder.

    Returns:
        str: The path of the cached file.

    Raises:
        DownloadError: See :func:`download`; the message also says where
            the file can be put by hand.
    """
    cached = url_cache_path(url, model_dir)
    if osp.isfile(cached):
        _check_hash(cached, f'{cached} (the cached copy of {url}; delete '
                    'it to download again)', expected_hash_prefix(url))
        return cached
    try:
        download(url, cached)
    except DownloadError as err:
        raise DownloadError(
            f'{err}. Without network access, put the file at {cached}'
        ) from None
    return cached

"""Downloads are all or nothing (issue 21, D1 and D3): an overall deadline
that a dripping server cannot stretch, a body shorter than its
``Content-Length`` refused, a cached file that fails its check moved aside
and downloaded again once, with a log line.

Servers: :mod:`utils.bad_servers` on 127.0.0.1.
"""
import logging
import time
from pathlib import Path

import pytest
import torch
from mmengine.logging import MMLogger

import fitnets_mm  # noqa: F401
from fitnets_mm.fileio.downloads import (DownloadError, download,
                                         fetch_url, url_cache_path)
from utils import bad_servers


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')


@pytest.mark.parametrize('headers_too', [False, True],
                         ids=['body_drip', 'header_drip'])
def test_dripping_server_ends_at_the_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        headers_too: bool) -> None:
    """One byte every 0.1 s never trips the 60 s read timeout; the 1 s
    deadline ends it (on a68fb28 the drip ran until the server quit)."""
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_DEADLINE', '1')
    with bad_servers.serve(bad_servers.drip(0.1, headers_too=headers_too)
                           ) as base:
        start = time.monotonic()
        with pytest.raises(DownloadError) as err:
            download(f'{base}/t.pth', str(tmp_path / 't.pth'), timeout=60)
        seconds = time.monotonic() - start
    assert seconds < 5, seconds
    message = str(err.value)
    for part in (f'{base}/t.pth', 'deadline of 1 s',
                 'FITNETS_MM_DOWNLOAD_DEADLINE=SECONDS'):
        assert part in message, f'{part!r} not in {message!r}'
    assert list(tmp_path.iterdir()) == []  # nothing partial left


def test_deadline_default_and_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fitnets_mm.fileio.downloads import (DEFAULT_DOWNLOAD_DEADLINE,
                                             download_deadline)
    monkeypatch.delenv('FITNETS_MM_DOWNLOAD_DEADLINE', raising=False)
    assert download_deadline() == DEFAULT_DOWNLOAD_DEADLINE == 3600
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_DEADLINE', '0')
    with pytest.raises(ValueError, match="FITNETS_MM_DOWNLOAD_DEADLINE.*'0'"):
        download_deadline()


def test_short_body_is_refused_and_not_cached(tmp_path: Path) -> None:
    """2,000 of 4,000 announced bytes: refused (a68fb28 cached them)."""
    with bad_servers.serve(bad_servers.short_body(b'x' * 2000, 4000)
                           ) as base:
        url = f'{base}/zoo/teacher.pth'
        with pytest.raises(DownloadError) as err:
            fetch_url(url, str(tmp_path))
    message = str(err.value)
    for part in (url, 'sent 2000 of the 4000 bytes it announced',
                 'Content-Length'):
        assert part in message, f'{part!r} not in {message!r}'
    cached = Path(url_cache_path(url, str(tmp_path)))
    assert not cached.exists()
    assert list(cached.parent.iterdir()) == []


def test_failing_cached_file_is_moved_aside_and_downloaded_once(
        tmp_path: Path, http_server: tuple) -> None:
    root, base = http_server
    torch.save(dict(state_dict=dict(w=torch.ones(2))),
               str(root / 'teacher.pth'))
    url = f'{base}/teacher.pth'
    cached = Path(url_cache_path(url, str(tmp_path / 'cache')))
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b'PK\x03\x04 damaged on disk')
    seen = []

    def check(path: str) -> None:
        seen.append(Path(path).read_bytes()[:4])
        if not Path(path).read_bytes().startswith(b'PK\x03\x04\x00'):
            raise ValueError('does not load')

    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        assert fetch_url(url, str(tmp_path / 'cache'), check=check) == \
            str(cached)
    finally:
        logger.removeHandler(handler)
    assert cached.read_bytes() == (root / 'teacher.pth').read_bytes()
    assert Path(f'{cached}.damaged').read_bytes() == \
        b'PK\x03\x04 damaged on disk'
    assert len(seen) == 2  # the cached file, then the one download
    text = ' '.join(r.getMessage() for r in records)
    for part in (str(cached), 'does not load', f'{cached}.damaged',
                 f'downloading {url} again, once'):
        assert part in text, f'{part!r} not in {text!r}'

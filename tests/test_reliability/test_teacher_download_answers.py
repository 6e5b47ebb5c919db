"""``teacher_ckpt`` URLs whose server answers wrongly (issue 21, D1-D3):
nothing but a loadable checkpoint is ever cached, and every download ends
by its deadline.

* D2: an HTML login page with HTTP 200 is refused with an error naming
  ``teacher_ckpt``, the URL, what came back ("an HTML page, 88 bytes") and
  the override; nothing is cached, so once the server is fixed the next
  build downloads the real teacher;
* D3: a body shorter than its ``Content-Length`` is refused and not cached;
* D1: a server that drips one byte at a time ends at the deadline.

Protection: :mod:`fitnets_mm.fileio.downloads` and
:mod:`fitnets_mm.fileio.download_checks`, behind the URL loader of
:mod:`fitnets_mm.fileio.safe_checkpoint`.
"""
import time
from pathlib import Path
from typing import Any, Tuple

import pytest
import torch
from mmrazor.registry import MODELS

from fitnets_mm.fileio.downloads import DownloadError, url_cache_path
from utils import bad_servers
from utils import reliability as H


def _build(tmp_path: Path, teacher_ckpt: str) -> Any:
    return MODELS.build(
        H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt).model)


def _cached(url: str) -> Path:
    return Path(url_cache_path(url, str(Path(torch.hub.get_dir()) /
                                        'checkpoints')))


def test_html_answer_is_not_cached_and_a_fixed_server_is_asked_again(
        tmp_path: Path, teacher_ckpt: str,
        http_server: Tuple[Path, str]) -> None:
    root, base = http_server
    (root / 'teacher.pth').write_bytes(bad_servers.HTML_PAGE)
    url = f'{base}/teacher.pth'
    with pytest.raises(DownloadError) as err:
        _build(tmp_path, url)
    message = str(err.value)
    for part in ('teacher_ckpt', url, 'an HTML page, 88 bytes',
                 'not a PyTorch checkpoint',
                 '--cfg-options model.teacher_ckpt=PATH'):
        assert part in message, f'{part!r} not in {message!r}'
    assert len(message.splitlines()) == 1
    assert not _cached(url).exists()

    (root / 'teacher.pth').write_bytes(Path(teacher_ckpt).read_bytes())
    model = _build(tmp_path, url)  # the second run: the real file
    expected = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    H.assert_bitwise_equal(model.teacher.state_dict(), expected, 'teacher')
    assert _cached(url).read_bytes() == Path(teacher_ckpt).read_bytes()


def test_short_teacher_download_is_refused_and_not_cached(
        tmp_path: Path, teacher_ckpt: str,
        http_server: Tuple[Path, str]) -> None:
    data = Path(teacher_ckpt).read_bytes()
    with bad_servers.serve(bad_servers.short_body(
            data[:len(data) // 2], len(data))) as base:
        url = f'{base}/zoo/teacher.pth'
        with pytest.raises(DownloadError) as err:
            _build(tmp_path, url)
    message = str(err.value)
    for part in ('teacher_ckpt', url,
                 f'sent {len(data) // 2} of the {len(data)} bytes',
                 '--cfg-options model.teacher_ckpt=PATH'):
        assert part in message, f'{part!r} not in {message!r}'
    assert 'miniz' not in message
    assert not _cached(url).exists()


def test_dripping_teacher_server_ends_at_the_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        http_server: Tuple[Path, str]) -> None:
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_DEADLINE', '1.5')
    with bad_servers.serve(bad_servers.drip(0.2)) as base:
        url = f'{base}/teacher.pth'
        start = time.monotonic()
        with pytest.raises(DownloadError) as err:
            _build(tmp_path, url)
        seconds = time.monotonic() - start
    assert seconds < 6, seconds
    message = str(err.value)
    for part in ('teacher_ckpt', url, 'deadline of 1.5 s',
                 'FITNETS_MM_DOWNLOAD_DEADLINE'):
        assert part in message, f'{part!r} not in {message!r}'
    assert not _cached(url).exists()

"""``fitnets_mm.fileio.downloads``: URL-keyed cache, hashes, timeouts."""
import hashlib
import socket
import time
from pathlib import Path
from typing import Iterator, Tuple

import pytest
import torch
from mmengine.runner import CheckpointLoader

import fitnets_mm  # noqa: F401  (installs the loaders)
from fitnets_mm.fileio.downloads import (DownloadError, download,
                                         expected_hash_prefix, fetch_url,
                                         url_cache_path)


def _save(path: Path, value: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=dict(w=torch.full((2, ), value))), str(path))
    return path


@pytest.fixture
def silent_server() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a socket that accepts connections (the
    kernel completes the handshake) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen(8)
        yield f'http://127.0.0.1:{sock.getsockname()[1]}'


def test_cache_is_keyed_by_the_full_url(
        http_server: Tuple[Path, str]) -> None:
    """Two URLs with the same file name are two downloads."""
    root, base = http_server
    _save(root / 'teacher' / 'epoch_1.pth', 1.0)
    _save(root / 'student' / 'epoch_1.pth', 2.0)
    first = CheckpointLoader.load_checkpoint(f'{base}/teacher/epoch_1.pth')
    second = CheckpointLoader.load_checkpoint(f'{base}/student/epoch_1.pth')
    assert float(first['state_dict']['w'][0]) == 1.0
    assert float(second['state_dict']['w'][0]) == 2.0
    # and the cached copy is used the second time
    (root / 'teacher' / 'epoch_1.pth').unlink()
    again = CheckpointLoader.load_checkpoint(f'{base}/teacher/epoch_1.pth')
    assert float(again['state_dict']['w'][0]) == 1.0


def test_url_cache_path_keeps_the_name(tmp_path: Path) -> None:
    a = url_cache_path('http://a/x/epoch_1.pth', str(tmp_path))
    b = url_cache_path('http://b/x/epoch_1.pth', str(tmp_path))
    assert a != b
    assert Path(a).name == Path(b).name == 'epoch_1.pth'


def test_expected_hash_prefix() -> None:
    assert expected_hash_prefix(
        'https://download.openmmlab.com/mmclassification/v0/resnet/'
        'resnet18_b16x8_cifar10_20210528-bd6371c8.pth') == 'bd6371c8'
    assert expected_hash_prefix('http://h/epoch_1.pth') is None
    assert expected_hash_prefix('http://h/teacher_best.pth') is None


def test_openmmlab_hash_suffix_is_verified(
        http_server: Tuple[Path, str], tmp_path: Path) -> None:
    root, base = http_server
    good = _save(tmp_path / 'build.pth', 3.0)
    digest = hashlib.sha256(good.read_bytes()).hexdigest()
    right = f'zoo_20210528-{digest[:8]}.pth'
    wrong = f'zoo_20210528-{"0" if digest[0] != "0" else "1"}{digest[1:8]}.pth'
    (root / right).write_bytes(good.read_bytes())
    (root / wrong).write_bytes(good.read_bytes())
    loaded = CheckpointLoader.load_checkpoint(f'{base}/{right}')
    assert float(loaded['state_dict']['w'][0]) == 3.0
    with pytest.raises(DownloadError, match='SHA-256') as err:
        CheckpointLoader.load_checkpoint(f'{base}/{wrong}')
    assert f'{base}/{wrong}' in str(err.value)
    cached = Path(url_cache_path(f'{base}/{wrong}', str(tmp_path / 'c')))
    assert not cached.exists()  # nothing unverified is cached


def test_damaged_cached_file_fails_its_hash(http_server: Tuple[Path, str],
                                            tmp_path: Path) -> None:
    root, base = http_server
    good = _save(tmp_path / 'build.pth', 3.0)
    name = f'zoo-{hashlib.sha256(good.read_bytes()).hexdigest()[:8]}.pth'
    (root / name).write_bytes(good.read_bytes())
    cache = str(tmp_path / 'cache')
    cached = Path(fetch_url(f'{base}/{name}', cache))
    cached.write_bytes(cached.read_bytes()[:100])
    with pytest.raises(DownloadError, match='damaged') as err:
        fetch_url(f'{base}/{name}', cache)
    assert f'delete it to download again: rm {cached}' in str(err.value)


def test_silent_server_times_out(silent_server: str, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(DownloadError, match='no answer within 1 s'):
        download(f'{silent_server}/t.pth', str(tmp_path / 't.pth'),
                 timeout=1)
    assert time.monotonic() - start < 15
    assert list(tmp_path.iterdir()) == []  # no partial file


def test_timeout_from_the_environment(silent_server: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_TIMEOUT', '0.5')
    start = time.monotonic()
    with pytest.raises(DownloadError, match='no answer within 0.5 s'):
        fetch_url(f'{silent_server}/t.pth', str(tmp_path))
    assert time.monotonic() - start < 15
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_TIMEOUT', 'soon')
    with pytest.raises(ValueError, match="'soon'"):
        fetch_url(f'{silent_server}/t.pth', str(tmp_path))

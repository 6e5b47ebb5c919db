"""``teacher_ckpt`` URLs: the right teacher every time, no hang, one clear
error.

* two URLs with the same file name load two files (the cache is keyed by
  the full URL): the second, a student checkpoint, is rejected exactly as
  the same file given as a local path;
* a server that accepts and never answers ends the build within the
  configured timeout;
* a refused URL is one short error naming ``teacher_ckpt``, the URL, the
  cache path to put the file at and the ``--cfg-options`` override.

Protection: :mod:`fitnets_mm.fileio.downloads`, used by the URL loader of
:mod:`fitnets_mm.fileio.safe_checkpoint`.
"""
import socket
import time
from pathlib import Path
from typing import Any, Tuple

from utils import reliability as H
import pytest
import torch
from mmrazor.registry import MODELS

from fitnets_mm.fileio.downloads import DownloadError, url_cache_path


def _build(tmp_path: Path, teacher_ckpt: str) -> Any:
    return MODELS.build(
        H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt).model)


def test_same_file_name_other_url_is_not_the_cached_teacher(
        tmp_path: Path, teacher_ckpt: str,
        http_server: Tuple[Path, str]) -> None:
    root, base = http_server
    (root / 'teacher').mkdir()
    (root / 'teacher' / 'epoch_1.pth').write_bytes(
        Path(teacher_ckpt).read_bytes())
    student = tmp_path / 'student_epoch_1.pth'
    H.make_teacher_ckpt(str(student), width=H.STUDENT_WIDTH)
    (root / 'student').mkdir()
    (root / 'student' / 'epoch_1.pth').write_bytes(student.read_bytes())

    model = _build(tmp_path, f'{base}/teacher/epoch_1.pth')
    expected = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    H.assert_bitwise_equal(model.teacher.state_dict(), expected, 'teacher')
    with pytest.raises(KeyError, match='does not fit the teacher'):
        _build(tmp_path, str(student))  # as a local path
    with pytest.raises(KeyError, match='does not fit the teacher'):
        _build(tmp_path, f'{base}/student/epoch_1.pth')


def test_silent_teacher_url_times_out(tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      http_server: Tuple[Path, str]) -> None:
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_TIMEOUT', '1')
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen(8)  # accepts, never answers
        url = f'http://127.0.0.1:{sock.getsockname()[1]}/teacher.pth'
        start = time.monotonic()
        with pytest.raises(DownloadError) as err:
            _build(tmp_path, url)
        assert time.monotonic() - start < 30
    message = str(err.value)
    for part in ('teacher_ckpt', url, 'no answer within 1 s',
                 'FITNETS_MM_DOWNLOAD_TIMEOUT'):
        assert part in message, f'{part!r} not in {message!r}'


def test_refused_teacher_url_is_one_clear_error(
        tmp_path: Path, http_server: Tuple[Path, str]) -> None:
    port = H.free_port()  # nothing listens there
    url = f'http://127.0.0.1:{port}/zoo/teacher.pth'
    with pytest.raises(DownloadError) as err:
        _build(tmp_path, url)
    message = str(err.value)
    cached = url_cache_path(url, str(Path(torch.hub.get_dir()) /
                                     'checkpoints'))
    for part in ('teacher_ckpt', url, 'refused', cached,
                 '--cfg-options model.teacher_ckpt=PATH'):
        assert part in message, f'{part!r} not in {message!r}'
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert len(message.splitlines()) == 1

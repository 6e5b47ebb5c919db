"""Guarantee 1: safe checkpoints.

``teacher_ckpt`` (a local path or a URL), ``resume`` (a path or ``auto``) and
``load_from`` load with PyTorch's weights-only unpickler and mmengine's
allow-list: a file crafted so that unpickling runs code is refused with an
error naming the file and the offending type, and the code never runs (a
marker file it would create stays absent). A corrupt or truncated checkpoint
gives a :class:`CorruptCheckpointError` naming the file.

Protection: :mod:`fitnets_mm.fileio.safe_checkpoint`.
"""
import functools
import http.server
import threading
from pathlib import Path
from typing import Any, Iterator

from utils import reliability as H
import pytest
import torch
from mmengine.runner import Runner
from mmrazor.registry import MODELS

from fitnets_mm.fileio import CorruptCheckpointError, UnsafeCheckpointError

# How the refusal names the payload's global (``builtins.exec``); PyTorch
# calls builtins by their bare name.
OFFENDING = "'exec'"


class _Payload:
    """Unpickling this runs ``exec``, which creates ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return exec, (f'open({self.marker!r}, "w").close()', )


def _craft(path: Path, marker: Path, teacher_ckpt: str) -> Path:
    """A real teacher checkpoint with the payload in its ``meta``."""
    state = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    torch.save(dict(state_dict=state, meta=dict(note=_Payload(str(marker)))),
               str(path))
    return path


@pytest.fixture
def evil(tmp_path: Path, teacher_ckpt: str) -> Iterator[tuple]:
    """``(crafted checkpoint, marker)``; the marker must never appear.

    The payload is checked to be live: a full ``torch.load`` of a twin file
    does create its marker.
    """
    twin_marker = tmp_path / 'twin_ran'
    twin = _craft(tmp_path / 'twin.pth', twin_marker, teacher_ckpt)
    torch.load(str(twin), weights_only=False)
    assert twin_marker.exists(), 'the payload does not work'

    marker = tmp_path / 'payload_ran'
    path = _craft(tmp_path / 'evil.pth', marker, teacher_ckpt)
    yield path, marker
    assert not marker.exists(), 'the crafted checkpoint ran its code'


@pytest.fixture
def truncated(tmp_path: Path, teacher_ckpt: str) -> Path:
    """The teacher checkpoint cut in half, as a killed download leaves it."""
    data = Path(teacher_ckpt).read_bytes()
    path = tmp_path / 'truncated.pth'
    path.write_bytes(data[:len(data) // 2])
    return path


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple]:
    """``(folder, base URL)`` of an HTTP server on 127.0.0.1 serving
    ``folder``; downloads are cached under ``tmp_path``."""
    root = tmp_path / 'www'
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hub_dir = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'torch_hub'))
    try:
        yield root, f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        torch.hub.set_dir(hub_dir)
        server.shutdown()
        server.server_close()


def _build_distill(tmp_path: Path, teacher_ckpt: str) -> Any:
    cfg = H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt)
    return MODELS.build(cfg.model)


def _runner(tmp_path: Path, teacher_ckpt: str, **cfg: Any) -> Runner:
    config = H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt, **cfg)
    config.experiment_name = f'safe_{tmp_path.name}'
    return Runner.from_cfg(config)


def _assert_names(err: BaseException, *parts: str) -> None:
    for part in parts:
        assert part in str(err), f'{part!r} not in {err}'


# ------------------------------------------------------------ teacher_ckpt
def test_teacher_ckpt_local_code_is_refused(tmp_path: Path,
                                            evil: tuple) -> None:
    path, _ = evil
    with pytest.raises(UnsafeCheckpointError) as err:
        _build_distill(tmp_path, str(path))
    _assert_names(err.value, str(path), OFFENDING)


def test_teacher_ckpt_url_code_is_refused(tmp_path: Path, evil: tuple,
                                          http_root: tuple) -> None:
    path, _ = evil
    root, base = http_root
    (root / 'zoo_teacher.pth').write_bytes(path.read_bytes())
    url = f'{base}/zoo_teacher.pth'
    with pytest.raises(UnsafeCheckpointError) as err:
        _build_distill(tmp_path, url)
    _assert_names(err.value, url, OFFENDING)


def test_teacher_ckpt_url_loads_a_good_checkpoint(
        tmp_path: Path, teacher_ckpt: str, http_root: tuple) -> None:
    """The URL path works at all (so the refusal above is the payload's)."""
    root, base = http_root
    (root / 'good_teacher.pth').write_bytes(Path(teacher_ckpt).read_bytes())
    model = _build_distill(tmp_path, f'{base}/good_teacher.pth')
    expected = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    H.assert_bitwise_equal(model.teacher.state_dict(), expected, 'teacher')


def test_teacher_ckpt_truncated_is_a_clear_error(tmp_path: Path,
                                                 truncated: Path) -> None:
    with pytest.raises(CorruptCheckpointError) as err:
        _build_distill(tmp_path, str(truncated))
    _assert_names(err.value, str(truncated), 'truncated')


def test_teacher_ckpt_cut_early_is_a_clear_error(tmp_path: Path,
                                                 teacher_ckpt: str) -> None:
    path = tmp_path / 'cut_early.pth'
    path.write_bytes(Path(teacher_ckpt).read_bytes()[:5000])
    with pytest.raises(CorruptCheckpointError) as err:
        _build_distill(tmp_path, str(path))
    _assert_names(err.value, str(path), 'truncated')


def test_teacher_ckpt_garbage_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / 'notes.pth'
    path.write_text('these are not weights\n' * 20)
    with pytest.raises(CorruptCheckpointError) as err:
        _build_distill(tmp_path, str(path))
    _assert_names(err.value, str(path))


# ------------------------------------------------------ resume / load_from
@pytest.mark.parametrize('how', ['resume', 'load_from', 'resume_auto'])
def test_runner_checkpoints_code_is_refused(tmp_path: Path, evil: tuple,
                                            teacher_ckpt: str,
                                            how: str) -> None:
    path, _ = evil
    if how == 'resume_auto':
        work = tmp_path / 'work'
        work.mkdir()
        (work / 'last_checkpoint').write_text(str(path))
        runner = _runner(tmp_path, teacher_ckpt, resume=True)
    else:
        runner = _runner(tmp_path, teacher_ckpt, load_from=str(path),
                         resume=how == 'resume')
    with pytest.raises(UnsafeCheckpointError) as err:
        runner.train()
    _assert_names(err.value, str(path), OFFENDING)
    assert runner.iter == 0
    assert 'Epoch(train)' not in H.log_text(str(tmp_path / 'work'))


@pytest.mark.parametrize('how', ['resume', 'load_from'])
def test_runner_truncated_checkpoint_is_a_clear_error(
        tmp_path: Path, truncated: Path, teacher_ckpt: str, how: str) -> None:
    runner = _runner(tmp_path, teacher_ckpt, load_from=str(truncated),
                     resume=how == 'resume')
    with pytest.raises(CorruptCheckpointError) as err:
        runner.train()
    _assert_names(err.value, str(truncated), 'truncated')
    assert runner.iter == 0

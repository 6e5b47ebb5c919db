"""Guarantee 1, every entry point: files that are not checkpoints and files
that abuse the allow-list are named and classified.

Five entry points (``teacher_ckpt``, ``resume``, ``load_from``,
``tools/test.py`` and the student exporter) get:

* loadable files that hold no checkpoint dict (a tensor, a list):
  :class:`NotACheckpointError` naming the file, not mmengine's
  ``Tensor.__contains__`` error;
* attack files: a checkpoint that abuses the allow-listed ``getattr`` (for
  an attribute walk or to call a method), and a raw protocol-4 pickle that
  calls ``os.system``: :class:`UnsafeCheckpointError` ("refused ... as
  unsafe"), naming the file and what it needed, never torch's advice to
  re-run with ``weights_only=False`` (which would run the payload);
* a directory: an ``IsADirectoryError`` that says so.

Protection: :func:`fitnets_mm.compat.load_checkpoint_dict` behind every
loader of :mod:`fitnets_mm.fileio.safe_checkpoint`.
"""
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Dict

from utils import reliability as H
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import Runner
from mmrazor.registry import MODELS

from fitnets_mm.fileio import (NotACheckpointError, UnsafeCheckpointError,
                               safe_load)
from fitnets_mm.export import export_student


class _SystemCall:
    """Unpickling this runs ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> Any:
        return os.system, (self.command, )


class _GetattrWalk:
    """``getattr(HistoryBuffer, '__init__')``: a step of an attribute walk
    towards ``__globals__`` through the allow-listed ``getattr``."""

    def __reduce__(self) -> Any:
        return getattr, (HistoryBuffer, '__init__')


class _GetattrCall:
    """Calls the allowed ``HistoryBuffer.min`` with arguments of its own."""

    def __reduce__(self) -> Any:
        return getattr(HistoryBuffer, 'min'), ()


def _tensor(path: Path, marker: Path) -> None:
    torch.save(torch.zeros(3), str(path))


def _list(path: Path, marker: Path) -> None:
    torch.save([torch.zeros(3)], str(path))


def _getattr_walk(path: Path, marker: Path) -> None:
    torch.save(dict(state_dict={}, meta=_GetattrWalk()), str(path))


def _getattr_walk_raw(protocol: int) -> Callable[[Path, Path], None]:
    """The walk as a raw pickle of ``protocol`` (4: torch's unpickler stops
    at ``FRAME`` before the call; 0: at its text opcodes)."""

    def make(path: Path, marker: Path) -> None:
        path.write_bytes(pickle.dumps(dict(state_dict={}, meta=_GetattrWalk()),
                                      protocol=protocol))

    return make


def _getattr_call(path: Path, marker: Path) -> None:
    torch.save(dict(state_dict={}, meta=_GetattrCall()), str(path))


def _raw_pickle(path: Path, marker: Path) -> None:
    payload = _SystemCall(f'touch {marker}')
    path.write_bytes(pickle.dumps(payload, protocol=4))
    twin = path.with_suffix('.twin')
    twin.write_bytes(pickle.dumps(_SystemCall(f'touch {marker}.twin'),
                                  protocol=4))
    pickle.loads(twin.read_bytes())  # the payload is live
    assert Path(f'{marker}.twin').exists()


def _directory(path: Path, marker: Path) -> None:
    path.mkdir()


#: file maker -> (expected error, words the message must hold)
FILES: Dict[str, tuple] = {
    'tensor': (_tensor, NotACheckpointError, ['torch.Tensor', 'not a']),
    'list': (_list, NotACheckpointError, ['builtins.list', 'not a']),
    'getattr_walk': (_getattr_walk, UnsafeCheckpointError,
                     ['as unsafe', "getattr(HistoryBuffer, '__init__')"]),
    'getattr_walk_p4': (_getattr_walk_raw(4), UnsafeCheckpointError,
                        ['as unsafe', "getattr(HistoryBuffer, '__init__')"]),
    'getattr_walk_p0': (_getattr_walk_raw(0), UnsafeCheckpointError,
                        ['as unsafe', "getattr(HistoryBuffer, '__init__')"]),
    'getattr_call': (_getattr_call, UnsafeCheckpointError,
                     ['as unsafe', "'HistoryBuffer.min'"]),
    'raw_pickle_os_system': (_raw_pickle, UnsafeCheckpointError,
                             ['as unsafe', 'system']),
    'directory': (_directory, IsADirectoryError, ['is a directory']),
}


def _teacher_ckpt(tmp_path: Path, path: Path, teacher: str) -> None:
    MODELS.build(H.fitnets_cfg(str(tmp_path / 'work'), str(path)).model)


def _runner(tmp_path: Path, teacher: str, **cfg: Any) -> Runner:
    config = H.fitnets_cfg(str(tmp_path / 'work'), teacher, **cfg)
    config.experiment_name = f'entry_{tmp_path.name}'
    return Runner.from_cfg(config)


def _resume(tmp_path: Path, path: Path, teacher: str) -> None:
    _runner(tmp_path, teacher, load_from=str(path), resume=True).train()


def _load_from(tmp_path: Path, path: Path, teacher: str) -> None:
    _runner(tmp_path, teacher, load_from=str(path)).train()


def _tools_test(tmp_path: Path, path: Path, teacher: str) -> None:
    H.run_tools_test(H.fitnets_cfg(str(tmp_path / 'work'), teacher),
                     str(path), str(tmp_path))


def _converter(tmp_path: Path, path: Path, teacher: str) -> None:
    export_student(path, tmp_path / 'student.pth')


ENTRIES: Dict[str, Callable] = {
    'teacher_ckpt': _teacher_ckpt,
    'resume': _resume,
    'load_from': _load_from,
    'tools_test': _tools_test,
    'converter': _converter,
}


#: The runner entry points share one loader: a subset of the files keeps
#: the test fast.
RUNNER_KINDS = ('tensor', 'getattr_walk', 'getattr_walk_p4',
                'raw_pickle_os_system',
                'directory')
CASES = [(entry, kind) for entry in sorted(ENTRIES) for kind in sorted(FILES)
         if entry in ('teacher_ckpt', 'converter') or kind in RUNNER_KINDS]


@pytest.mark.parametrize('entry,kind', CASES)
def test_entry_point_classifies_the_file(tmp_path: Path, teacher_ckpt: str,
                                         entry: str, kind: str) -> None:
    make, error, words = FILES[kind]
    path = tmp_path / f'{kind}.pth'
    marker = tmp_path / 'payload_ran'
    make(path, marker)
    with pytest.raises(error) as err:
        ENTRIES[entry](tmp_path, path, teacher_ckpt)
    message = str(err.value)
    for word in [str(path)] + words:
        assert word in message, f'{word!r} not in {message!r}'
    assert 'weights_only' not in message
    assert "'<function'" not in message
    assert not marker.exists(), 'the file ran its code'


def test_attack_files_fail_as_unsafe_in_safe_load(tmp_path: Path) -> None:
    """The classification does not depend on the entry point."""
    for kind in ('getattr_walk', 'getattr_call', 'raw_pickle_os_system'):
        make, error, _ = FILES[kind]
        path = tmp_path / f'{kind}.pth'
        make(path, tmp_path / 'marker')
        with pytest.raises(UnsafeCheckpointError, match='as unsafe'):
            safe_load(path)

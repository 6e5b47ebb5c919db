"""Guarantee 1 in every pickle protocol: a file that uses the allow-listed
``getattr`` beyond the ``HistoryBuffer`` statistics is refused as unsafe,
with the same message whatever the protocol (0 to 5) and whether it is a
zip checkpoint or a raw pickle; random and damaged files are still called
damaged (issue 21, D4).

On a68fb28, protocols 4 and 5 stopped torch's unpickler at their ``FRAME``
opcode and the file was called "damaged ... Unsupported operand 149".

Protection: :mod:`fitnets_mm.fileio.pickle_allowlist_scan`, used by
:func:`fitnets_mm.compat.safe_load`.
"""
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from fitnets_mm.fileio import (CorruptCheckpointError, UnsafeCheckpointError,
                               safe_load)


class _Walk:
    """``getattr(HistoryBuffer, '__init__')``: a step towards
    ``__globals__``."""

    def __reduce__(self) -> Any:
        return getattr, (HistoryBuffer, '__init__')


class _Call:
    """Calls the allowed ``HistoryBuffer.min`` with arguments of its own."""

    def __reduce__(self) -> Any:
        return getattr(HistoryBuffer, 'min'), ()


ATTACKS = {'walk': (_Walk, "it needs the call getattr(HistoryBuffer, "
                    "'__init__'), which"),
           'call': (_Call, "it needs the type 'HistoryBuffer.min', which")}


def _write(path: Path, obj: Any, protocol: int, container: str) -> Path:
    checkpoint = dict(state_dict={}, meta=obj)
    if container == 'zip':
        torch.save(checkpoint, str(path), pickle_protocol=protocol)
    else:
        path.write_bytes(pickle.dumps(checkpoint, protocol=protocol))
    return path


def _message(path: Path) -> str:
    with pytest.raises(UnsafeCheckpointError) as err:
        safe_load(str(path))
    return str(err.value).replace(str(path), 'FILE')


@pytest.mark.parametrize('attack', sorted(ATTACKS))
@pytest.mark.parametrize('container', ['zip', 'raw'])
@pytest.mark.parametrize('protocol', range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_protocol_is_refused_with_one_message(
        tmp_path: Path, attack: str, container: str, protocol: int) -> None:
    make, words = ATTACKS[attack]
    reference = _message(_write(tmp_path / 'p2.pth', make(), 2, 'zip'))
    path = _write(tmp_path / f'p{protocol}.pth', make(), protocol, container)
    message = _message(path)
    assert words in message, message
    assert message == reference


def test_plain_history_buffer_getattr_is_not_abuse(tmp_path: Path) -> None:
    """A real message hub's pickles pass the scan in every protocol."""
    from fitnets_mm.fileio.pickle_allowlist_scan import find_allowlist_abuse
    buffer = HistoryBuffer()
    buffer.update(1.0)
    state = dict(state_dict=dict(w=torch.ones(2)),
                 message_hub=dict(log_scalars={'loss': buffer},
                                  stat=getattr(HistoryBuffer, 'mean')))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(state, protocol=protocol)
        assert find_allowlist_abuse(
            [data], lambda name: True,
            lambda owner, name: owner.endswith('HistoryBuffer') and
            name in ('min', 'max', 'mean', 'current')) is None, protocol
    path = tmp_path / 'hub.pth'
    torch.save(state, str(path))
    assert safe_load(path)['state_dict']['w'].sum() == 2


@pytest.mark.parametrize('kind', ['random', 'random_p4_header',
                                  'truncated'])
def test_random_or_damaged_file_is_still_damaged(tmp_path: Path,
                                                 kind: str) -> None:
    path = tmp_path / f'{kind}.pth'
    if kind == 'truncated':
        torch.save(dict(state_dict=dict(w=torch.ones(1000))), str(path))
        path.write_bytes(path.read_bytes()[:300])
    else:
        data = os.urandom(4096)
        if kind == 'random_p4_header':
            data = b'\x80\x04\x95' + data
        path.write_bytes(data)
    with pytest.raises(CorruptCheckpointError) as err:
        safe_load(str(path))
    assert not isinstance(err.value, UnsafeCheckpointError)
    assert str(path) in str(err.value)

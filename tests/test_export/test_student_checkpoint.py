"""Student export: which keys and meta are kept, and a weights-only load."""
from pathlib import Path

import pytest
import torch
from mmengine.logging import MessageHub

from fitnets_mm.fileio import UnsafeCheckpointError
from fitnets_mm.export import export_student, student_checkpoint

STATE = {
    'architecture.backbone.conv.weight': torch.ones(2, 3),
    'architecture.head.fc.bias': torch.zeros(2),
    'teacher.backbone.conv.weight': torch.ones(4),
    'regressors.0.layer.weight': torch.ones(5),
    'distiller.connectors.x': torch.ones(1),
    'data_preprocessor.mean': torch.ones(3),
}
META = dict(epoch=3, iter=30, cfg='model = dict(type="FitNetsDistill")',
            dataset_meta=dict(classes=('a', 'b')))


def test_keeps_the_student_only() -> None:
    out = student_checkpoint(dict(meta=META, state_dict=STATE,
                                  optimizer={}, message_hub={}))
    assert set(out) == {'meta', 'state_dict'}
    assert set(out['state_dict']) == {'backbone.conv.weight',
                                      'head.fc.bias'}
    assert out['state_dict']['backbone.conv.weight'] is \
        STATE['architecture.backbone.conv.weight']
    assert out['meta'] == dict(dataset_meta=dict(classes=('a', 'b')))
    assert student_checkpoint(dict(meta=META, state_dict=STATE),
                              keep_meta=True)['meta'] == META


def test_bare_and_wrapped_state_dicts() -> None:
    bare = student_checkpoint({'module.' + k: v for k, v in STATE.items()})
    assert set(bare['state_dict']) == {'backbone.conv.weight',
                                       'head.fc.bias'}
    assert bare['meta'] == {}
    with pytest.raises(TypeError, match='holds a list'):
        student_checkpoint([1, 2])
    with pytest.raises(ValueError,
                       match=r"start with \['backbone', 'head'\]"):
        student_checkpoint({'backbone.w': torch.ones(1),
                            'head.b': torch.ones(1)})


def test_export_round_trip(tmp_path: Path) -> None:
    hub = MessageHub.get_instance('test_student_checkpoint')
    hub.update_scalar('train/loss', 1.5)
    src = tmp_path / 'fitnets.pth'
    torch.save(dict(meta=META, state_dict=STATE,
                    message_hub=hub.state_dict()), src)
    dst = tmp_path / 'out' / 'student.pth'
    assert export_student(src, dst) == 2
    ckpt = torch.load(dst, weights_only=True)
    assert set(ckpt['state_dict']) == {'backbone.conv.weight',
                                       'head.fc.bias'}
    # The destination may be the source.
    assert export_student(src, src, keep_meta=True) == 2
    assert torch.load(src, weights_only=True)['meta'] == META


def test_never_runs_code_from_the_file(tmp_path: Path) -> None:
    marker = tmp_path / 'ran'

    class Payload:

        def __reduce__(self) -> tuple:
            return open, (str(marker), 'w')

    src = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=STATE, meta=dict(x=Payload())), src)
    with pytest.raises(UnsafeCheckpointError):
        export_student(src, tmp_path / 'student.pth')
    assert not marker.exists()
    assert not (tmp_path / 'student.pth').exists()

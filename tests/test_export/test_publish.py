"""Publishing for the model zoo: what a published checkpoint keeps, its
``NAME_DATE-HASH.pth`` name, and the tool's one-line error."""
import hashlib
import re
from pathlib import Path

import pytest
import torch
from mmengine.logging import MessageHub

from fitnets_mm.export import publish_checkpoint, published_checkpoint

META = dict(epoch=3, iter=30, seed=0, dataset_meta=dict(classes=('a', 'b')))
TEACHER = {'backbone.conv.weight': torch.ones(2, 3),
           'head.fc.bias': torch.zeros(2)}
DISTILL = {'architecture.backbone.conv.weight': torch.ones(2, 3),
           'architecture.head.fc.bias': torch.zeros(2),
           'teacher.backbone.conv.weight': torch.ones(4),
           'regressors.0.layer.weight': torch.ones(5)}


def _training_checkpoint(path: Path, state: dict) -> Path:
    hub = MessageHub.get_instance('test_publish')
    hub.update_scalar('train/loss', 1.5)
    torch.save(dict(meta=META, state_dict=state, message_hub=hub.state_dict(),
                    optimizer=dict(state={}, param_groups=[])), path)
    return path


def test_a_plain_checkpoint_keeps_weights_and_class_names() -> None:
    out = published_checkpoint(dict(meta=META, state_dict={
        'module.' + k: v for k, v in TEACHER.items()}, optimizer={}))
    assert set(out) == {'meta', 'state_dict'}
    assert set(out['state_dict']) == set(TEACHER)
    assert out['meta'] == dict(dataset_meta=META['dataset_meta'])
    with pytest.raises(TypeError, match='got list'):
        published_checkpoint([1])


def test_a_distillation_checkpoint_is_published_as_its_student(
        tmp_path: Path) -> None:
    src = _training_checkpoint(tmp_path / 'epoch_9.pth', DISTILL)
    out = publish_checkpoint(src, tmp_path / 'zoo' / 'student_mnist',
                             date='20261202')
    match = re.fullmatch(r'student_mnist_20261202-([0-9a-f]{8})\.pth',
                         Path(out).name)
    assert match, out
    data = Path(out).read_bytes()
    assert hashlib.sha256(data).hexdigest().startswith(match.group(1))
    ckpt = torch.load(out, weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert set(ckpt['state_dict']) == {'backbone.conv.weight',
                                       'head.fc.bias'}
    assert not list((tmp_path / 'zoo').glob('*.publishing.pth'))
    # The same input gives the same file (and name).
    again = publish_checkpoint(src, tmp_path / 'zoo2' / 'student_mnist.pth',
                               date='20261202')
    assert Path(again).name == Path(out).name


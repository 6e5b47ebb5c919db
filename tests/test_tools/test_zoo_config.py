"""An MMPretrain zoo model by config path, its checkpoint from a zoo URL.

These machines reach no outside host, so the zoo URL's path is served by a
local HTTP server on 127.0.0.1 with a checkpoint the test writes; loading
goes through mmengine's normal ``load_checkpoint`` / ``CheckpointLoader``
path (and MMRazor's ``teacher_ckpt``), as with the real zoo.
"""
import hashlib
import re
from pathlib import Path
from typing import Tuple
from urllib.parse import urlparse

import fitnets_mm  # noqa: F401, I001  (first: mmrazor.models needs it)
import torch
from mmengine.hub import get_config
from mmengine.runner import load_checkpoint
from mmrazor.registry import MODELS

from utils.configs import kd_distiller_cfg

ZOO_CFG = 'mmpretrain::resnet/resnet18_8xb16_cifar10.py'


def _serve_zoo_checkpoint(root: Path, url: str) -> Tuple[str, dict]:
    """Write a random ResNet-18 CIFAR checkpoint at the zoo URL's path.

    Returns:
        Tuple[str, dict]: The local URL and the state dict it serves.
    """
    zoo_url = get_config(ZOO_CFG, pretrained=True).model_path
    path = urlparse(zoo_url).path
    assert zoo_url.startswith('https://') and path.endswith('.pth')
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg_path=ZOO_CFG, pretrained=False))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    target = root / path.lstrip('/')
    target.parent.mkdir(parents=True)
    torch.save({'state_dict': state, 'meta': {'zoo': zoo_url}}, str(target))
    # The zoo name ends in its file's SHA-256 prefix, which is checked:
    # give this file's own.
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    served = target.with_name(
        re.sub(r'-[0-9a-f]{8}\.pth$', f'-{digest[:8]}.pth', target.name))
    assert served != target
    target.rename(served)
    return url + '/' + str(served.relative_to(root)), state


def test_zoo_model_is_built_from_config_path() -> None:
    model = MODELS.build(dict(cfg_path=ZOO_CFG, pretrained=False))
    assert type(model).__name__ == 'ImageClassifier'
    assert type(model.backbone).__name__ == 'ResNet_CIFAR'
    assert model.head.fc.out_features == 10
    out = model(torch.zeros(1, 3, 32, 32), mode='tensor')
    assert out.shape == (1, 10)


def test_zoo_checkpoint_url_loads(http_server: Tuple[Path, str]) -> None:
    root, url = http_server
    local_url, state = _serve_zoo_checkpoint(root, url)
    model = MODELS.build(dict(cfg_path=ZOO_CFG, pretrained=False))
    ckpt = load_checkpoint(model, local_url, map_location='cpu', strict=True)
    assert ckpt['meta']['zoo'].startswith('https://download.openmmlab.com/')
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key])


def test_zoo_teacher_for_distillation(http_server: Tuple[Path, str]) -> None:
    # How an MMRazor config uses the zoo: teacher by cfg_path + teacher_ckpt.
    root, url = http_server
    local_url, state = _serve_zoo_checkpoint(root, url)
    algorithm = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='SingleTeacherDistill',
            architecture=dict(cfg_path=ZOO_CFG, pretrained=False),
            teacher=dict(cfg_path=ZOO_CFG, pretrained=False),
            teacher_ckpt=local_url,
            distiller=kd_distiller_cfg()))
    for key, value in algorithm.teacher.state_dict().items():
        torch.testing.assert_close(value, state[key])

"""The teacher: a ``fitnets_mm::`` config as ``cfg_path``, and
``teacher_ckpt`` (its errors: test_fitnets_distill.py)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS

from utils import toy_models as tm

from fitnets_mm.models.algorithms.teacher_loading import build_scoped_teacher

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TEACHER = 'fitnets_mm::fitnets/paper/maxout-teacher_1xb128_mnist.py'
FITNETS = osp.join(REPO, 'configs', 'fitnets', 'paper',
                   'fitnets_maxout-teacher-student_1xb128_mnist.py')


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    with tm.one_thread():
        yield


def test_fitnets_mm_cfg_path_builds_the_config_model():
    teacher = build_scoped_teacher(dict(cfg_path=TEACHER))
    assert type(teacher).__name__ == 'ImageClassifier'
    assert type(teacher.backbone).__name__ == 'FitNetMNIST'
    # the config's data preprocessor (MNIST's normalisation) comes along
    assert teacher.data_preprocessor.mean.flatten().tolist() == \
        pytest.approx([33.46])
    # other teachers are left to MMRazor
    other = dict(cfg_path='mmpretrain::resnet/resnet18_8xb16_cifar10.py')
    assert build_scoped_teacher(other) is other


def test_distiller_takes_a_fitnets_mm_teacher():
    """The shipped MNIST FitNets config with its teacher given as
    ``cfg_path='fitnets_mm::...'`` builds (issue 20: ModuleNotFoundError
    fitnets_mm.utils)."""
    cfg = Config.fromfile(FITNETS)
    cfg.model.teacher = dict(cfg_path=TEACHER)
    cfg.model.teacher_ckpt = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(cfg.model)
    assert type(model.teacher.backbone).__name__ == 'FitNetMNIST'
    assert model.teacher.head.fc.in_features == 216
    assert set(model.loss(torch.zeros(2, 1, 28, 28))) == {'hint.loss_ht'}

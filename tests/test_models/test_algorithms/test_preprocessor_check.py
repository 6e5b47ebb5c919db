"""A student without the dataset's preprocessor never trains un-normalised."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS

from utils import toy_models as tm

from fitnets_mm.models.algorithms.preprocessor_check import \
    DataPreprocessorMismatch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    with tm.one_thread():
        yield


def student_without_preprocessor() -> dict:
    student = tm.classifier_cfg(4)
    student.pop('data_preprocessor')
    return student


def test_student_without_preprocessor_fails_naming_both() -> None:
    cfg = tm.fitnets_cfg(architecture=student_without_preprocessor())
    with pytest.raises(DataPreprocessorMismatch) as err:
        MODELS.build(cfg)
    msg = str(err.value)
    assert 'does not normalise' in msg
    assert "the student's (`model.architecture.data_preprocessor`" in msg
    assert 'ClsDataPreprocessor with no normalisation' in msg
    assert 'mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5]' in msg
    assert 'data_preprocessor={{_base_.data_preprocessor}}' in msg
    assert 'model.data_preprocessor=' in msg


def test_algorithm_preprocessor_with_other_mean_fails() -> None:
    pre = dict(type='mmpretrain.ClsDataPreprocessor', mean=[0.0] * 3,
               std=[255.0] * 3)
    with pytest.raises(DataPreprocessorMismatch) as err:
        MODELS.build(tm.fitnets_cfg(data_preprocessor=pre))
    msg = str(err.value)
    assert 'normalises differently' in msg
    assert '`model.data_preprocessor`,' in msg
    assert 'mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0]' in msg


def test_algorithm_preprocessor_fixes_a_bare_student() -> None:
    """``model.data_preprocessor`` with the teacher's normalisation is
    enough: it prepares the batches, the student's own is unused."""
    pre = copy.deepcopy(tm.classifier_cfg(8)['data_preprocessor'])
    pre['type'] = 'mmpretrain.ClsDataPreprocessor'
    model = MODELS.build(tm.fitnets_cfg(
        architecture=student_without_preprocessor(), data_preprocessor=pre))
    assert model.data_preprocessor._enable_normalize


def test_teacher_without_normalisation_is_not_checked() -> None:
    """A teacher dict without a preprocessor says nothing about its
    training inputs."""
    teacher = tm.classifier_cfg(8)
    teacher.pop('data_preprocessor')
    model = MODELS.build(tm.fitnets_cfg(teacher=teacher))
    assert model.data_preprocessor._enable_normalize


def test_shipped_config_without_the_line_fails() -> None:
    """The main config, with the student's preprocessor line removed (what
    the README's worked example warns about), fails at build time."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'fitnet_cifar10.py'))
    assert cfg.model.data_preprocessor is None
    cfg.model.teacher_ckpt = None  # offline
    cfg.model.architecture.pop('data_preprocessor')
    with DefaultScope.overwrite_default_scope('mmrazor'):
        with pytest.raises(DataPreprocessorMismatch) as err:
            MODELS.build(cfg.model)
    msg = str(err.value)
    assert 'mean=[125.307, 122.961, 113.8575]' in msg  # the teacher's
    assert 'data_preprocessor={{_base_.data_preprocessor}}' in msg


def test_no_normalisation_anywhere_is_refused_in_one_line() -> None:
    """Neither student nor teacher normalises (issue 20: trained on raw
    pixels until NonFiniteWeightsError at iteration 63): refused at build
    time, in one line that names the fix; an identity normalisation says
    that raw inputs are meant."""
    teacher = tm.classifier_cfg(8)
    teacher.pop('data_preprocessor')
    cfg = tm.fitnets_cfg(architecture=student_without_preprocessor(),
                         teacher=teacher)
    with pytest.raises(DataPreprocessorMismatch) as err:
        MODELS.build(copy.deepcopy(cfg))
    msg = str(err.value)
    assert '\n' not in msg
    assert 'ClsDataPreprocessor with no normalisation' in msg
    assert "and so is the teacher's: training would run on raw pixels" in msg
    assert 'data_preprocessor={{_base_.data_preprocessor}}' in msg
    assert 'mean=[0.0], std=[1.0]' in msg
    model = MODELS.build(dict(cfg, data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor', mean=[0.0] * 3,
        std=[1.0] * 3)))
    assert model.data_preprocessor._enable_normalize

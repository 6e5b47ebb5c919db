"""The Fashion-MNIST configs are the MNIST paper configs with the data
swapped for configs/_base_/datasets/fashion_mnist_bs128.py: same networks,
regime and hooks (the FitNets one adds stage-1 early stopping)."""
import copy
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
PAPER = REPO / 'configs' / 'fitnets' / 'paper'
BASE = Config.fromfile(
    str(REPO / 'configs' / '_base_' / 'datasets' / 'fashion_mnist_bs128.py'))

PAIRS = {  # Fashion-MNIST config -> the MNIST config it follows
    'maxout-teacher_1xb128_fashion-mnist.py':
    'maxout-teacher_1xb128_mnist.py',
    'maxout-student-paper_1xb128_fashion-mnist.py':
    'maxout-student-paper_1xb128_mnist.py',
    'fitnets-paper_maxout-teacher-student_1xb128_fashion-mnist.py':
    'fitnets-paper_maxout-teacher-student_1xb128_mnist.py',
    'kd-paper_maxout-teacher-student_1xb128_fashion-mnist.py':
    'fitnets-paper_maxout-teacher-student_1xb128_mnist.py',
    'fsp_maxout-teacher-student_1xb128_fashion-mnist.py':
    'fsp_maxout-teacher-student_1xb128_mnist.py',
    'fitnets_maxout-teacher-student_1xb128_fashion-mnist.py':
    'fitnets_maxout-teacher-student_1xb128_mnist.py',
    'maxout-student_1xb128_fashion-mnist.py':
    'maxout-student_1xb128_mnist.py',
}


def _datasets(cfg):
    loaders = [cfg[f'{s}_dataloader'] for s in ('train', 'val', 'test')]
    loaders += [h.dataloader for h in cfg.get('custom_hooks', [])
                if 'dataloader' in h]
    return [loader.dataset for loader in loaders]


def _preprocessors(cfg):
    if 'architecture' in cfg.model:
        return [cfg.model.architecture.data_preprocessor,
                cfg.model.teacher.data_preprocessor]
    return [cfg.model.data_preprocessor]


def _without_data(cfg, kd_only=False):
    """The config as a dict without the data, its preprocessor statistics,
    the teacher checkpoint and early stopping."""
    d = copy.deepcopy(cfg.to_dict())
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'hint_val_dataloader', 'dataset_type', 'data_root',
                'data_preprocessor', '_data', '_preprocessor'):
        d.pop(key, None)
    model = d['model']
    model.pop('teacher_ckpt', None)
    for part in (model, model.get('architecture', {}),
                 model.get('teacher', {})):
        if part.get('data_preprocessor'):
            part['data_preprocessor'].pop('mean')
            part['data_preprocessor'].pop('std')
    for hook in d.get('custom_hooks', []):
        hook.pop('dataloader', None)
        hook.pop('patience', None)
    if kd_only:
        model['hints'] = []
        d['train_cfg']['hint_epochs'] = 0
    return d


@pytest.mark.parametrize('fashion,mnist', sorted(PAIRS.items()))
def test_fashion_config_is_the_mnist_one_on_fashion_data(fashion, mnist):
    cfg = Config.fromfile(str(PAPER / fashion))
    base = Config.fromfile(str(PAPER / mnist))
    for dataset in _datasets(cfg):
        assert dataset.type == BASE.dataset_type == 'FashionMNISTGz'
        assert dataset.data_root == BASE.data_root
    for preprocessor in _preprocessors(cfg):
        assert preprocessor.mean == BASE.data_preprocessor.mean
        assert preprocessor.std == BASE.data_preprocessor.std
    # the splits: train images 0-49,999 (paper regime) or all, hint
    # validation on 50,000-59,999, the 10,000 test images
    assert cfg.val_dataloader.dataset.test_mode is True
    assert cfg.test_dataloader.dataset.test_mode is True
    assert _without_data(cfg) == _without_data(
        base, kd_only=fashion.startswith('kd-'))
    if 'teacher_ckpt' in cfg.model:
        assert 'fashion-mnist' in cfg.model.teacher_ckpt


def test_fitnets_stage1_stops_early():
    cfg = Config.fromfile(
        str(PAPER / 'fitnets-paper_maxout-teacher-student_1xb128_'
            'fashion-mnist.py'))
    hook, = [h for h in cfg.custom_hooks if 'HintValidation' in h.type]
    assert hook.patience == 5 and hook.keep_best
    assert cfg.train_cfg.hint_epochs == 50  # the cap
    assert list(hook.dataloader.dataset.indices) == list(range(50000, 60000))
    assert list(cfg.train_dataloader.dataset.indices) == list(range(50000))

"""TeacherCacheHook: the same losses with and without the cache, the
teacher run once per sample, the outputs kept on disk under a key of the
teacher, the data and the pipeline, and random pipelines refused."""
import re

import numpy as np
import pytest
import torch
from mmengine.dataset import BaseDataset
from mmengine.hooks import Hook

from utils import toy_models as tm

N = 12


class ToyImages(BaseDataset):
    """``N`` fixed random 16x16 RGB images; samples carry ``sample_idx``."""

    METAINFO = dict(classes=[str(i) for i in range(tm.NUM_CLASSES)])

    def __init__(self, seed=0, pipeline=None, n=N):
        self.seed, self.n = seed, n
        super().__init__(
            pipeline=pipeline or [dict(type='mmpretrain.PackInputs')],
            serialize_data=False)

    def load_data_list(self):
        rng = np.random.default_rng(self.seed)
        return [dict(img=rng.integers(0, 256, (16, 16, 3), dtype=np.uint8),
                     gt_label=int(rng.integers(0, tm.NUM_CLASSES)))
                for _ in range(self.n)]


class CountTeacher(Hook):
    """Count the teacher's forwards in training iterations; record the
    logged losses of every iteration."""

    def __init__(self):
        self.forwards = 0
        self.losses = []

    def before_train(self, runner):
        def count(*_):
            self.forwards += int(runner.model.training)
        self.handle = runner.model.teacher.register_forward_pre_hook(count)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items()})

    def after_train(self, runner):
        self.handle.remove()


def _train(tmp_path, cache=True, dataset=None, model=None, name='run',
           cache_dir=None, hint_epochs=2, kd_epochs=2):
    counter = CountTeacher()
    hooks = [counter]
    if cache:
        hooks.append(dict(type='TeacherCacheHook',
                          dir=str(cache_dir or tmp_path / 'cache')))
    loader = dict(dataset=dataset or ToyImages(), batch_size=4,
                  num_workers=0, collate_fn=dict(type='pseudo_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=True))
    runner = tm.build_runner(
        work_dir=str(tmp_path / name), hint_epochs=hint_epochs,
        kd_epochs=kd_epochs, train_dataloader=loader, model=model,
        custom_hooks=hooks)
    with tm.one_thread():
        runner.train()
    return runner, counter


def _same_losses(a, b, rtol=1e-5):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            assert x[k] == pytest.approx(y[k], rel=rtol, abs=1e-6), k


def test_same_losses_with_and_without_the_cache(tmp_path):
    _, plain = _train(tmp_path, cache=False, name='plain')
    tm.reset_runner_state()
    runner, cached = _train(tmp_path, name='cached')
    _same_losses(plain.losses, cached.losses)
    # 3 iterations an epoch: stage 1 and stage 2 each ran the teacher in
    # their first epoch only
    assert plain.forwards == 12 and cached.forwards == 6
    log = tm.read_log(runner)
    assert "stage 'hint' teacher outputs of 12 samples saved to" in log
    assert "stage 'kd' teacher outputs of 12 samples saved to" in log
    assert 'hint: 3 batches read, 3 computed, kd: 3 batches read, ' \
        '3 computed' in log
    assert len(list((tmp_path / 'cache').glob('*-hint.pth'))) == 1
    # a second run reads both stages from disk: the teacher never runs
    tm.reset_runner_state()
    runner, again = _train(tmp_path, name='again')
    assert again.forwards == 0
    _same_losses(plain.losses, again.losses)
    assert re.search(r"stage 'kd' teacher outputs loaded from \S+-kd.pth",
                     tm.read_log(runner))


def test_fsp_stage1_is_cached(tmp_path):
    fsp = tm.fitnets_cfg(
        type='FSPDistill', hints=[],
        fsp_pairs=[dict(student=('backbone.layer2.0', 'backbone.layer2'),
                        teacher=('backbone.layer2.0', 'backbone.layer2'),
                        connector=dict())])
    _, plain = _train(tmp_path, cache=False, model=fsp, name='plain')
    tm.reset_runner_state()
    _, cached = _train(tmp_path, model=fsp, name='cached')
    _same_losses(plain.losses, cached.losses)
    assert cached.forwards == 6


@pytest.mark.parametrize('change', ['teacher', 'data', 'pipeline'])
def test_a_change_of_teacher_data_or_pipeline_recomputes(tmp_path, change):
    from fitnets_mm.engine.hooks.teacher_cache_hook import cache_key
    runner, _ = _train(tmp_path, hint_epochs=1, kd_epochs=0)
    model = runner.model
    dataset = runner.train_dataloader.dataset
    key = cache_key(model.teacher, dataset, model.data_preprocessor,
                    dict(hint=['backbone.layer2']))
    kwargs = {}
    if change == 'teacher':
        with torch.no_grad():
            model.teacher.head.fc.bias[0] += 1e-3
    elif change == 'data':
        dataset = ToyImages(seed=1)
        kwargs['dataset'] = ToyImages(seed=1)
    else:
        pipeline = [dict(type='mmpretrain.PackInputs',
                         meta_keys=('sample_idx', 'img_shape'))]
        dataset = ToyImages(pipeline=pipeline)
        kwargs['dataset'] = ToyImages(pipeline=pipeline)
    changed = cache_key(model.teacher, dataset, model.data_preprocessor,
                        dict(hint=['backbone.layer2']))
    assert changed['digest'] != key['digest']
    assert [k for k in key if key[k] != changed[k]] == [
        {'teacher': 'teacher', 'data': 'data',
         'pipeline': 'pipeline'}[change], 'digest']
    if change != 'teacher':
        tm.reset_runner_state()
        runner, counter = _train(tmp_path, hint_epochs=1, kd_epochs=0,
                                 name='changed', **kwargs)
        assert counter.forwards == 3  # computed again
        assert len(list((tmp_path / 'cache').glob('*-hint.pth'))) == 2


def test_random_transforms_are_refused(tmp_path):
    pipeline = [dict(type='mmpretrain.RandomFlip', prob=0.5),
                dict(type='mmpretrain.PackInputs')]
    with pytest.raises(ValueError, match=r"random transform\(s\) "
                       r"\['RandomFlip'\]") as err:
        _train(tmp_path, dataset=ToyImages(pipeline=pipeline))
    assert '\n' not in str(err.value)


def test_random_transforms_found_nested():
    from fitnets_mm.engine.hooks.teacher_cache_hook import random_transforms
    pipeline = [dict(type='mmpretrain.ResizeEdge', scale=16),
                dict(type='RandomChoice', transforms=[
                    [dict(type='ColorJitter')]]),
                dict(type='PackInputs')]
    assert random_transforms(pipeline) == ['RandomChoice', 'ColorJitter']
    assert random_transforms([dict(type='PackInputs')]) == []


def test_samples_without_sample_idx_are_refused(tmp_path):
    pipeline = [dict(type='mmpretrain.PackInputs', meta_keys=())]
    with pytest.raises(KeyError, match='sample_idx of every training '
                       'sample'):
        _train(tmp_path, dataset=ToyImages(pipeline=pipeline))


def test_a_dataset_without_data_infos_is_refused(tmp_path):
    runner = tm.build_runner(  # tm.RandomImages: a plain torch Dataset
        work_dir=str(tmp_path), hint_epochs=1, kd_epochs=0,
        custom_hooks=[dict(type='TeacherCacheHook',
                           dir=str(tmp_path / 'cache'))])
    with pytest.raises(TypeError, match='needs an mmengine BaseDataset'):
        runner.train()

"""Choose the teacher-output cache in a config, keyed and kept on disk."""
import hashlib
import json
import os.path as osp
from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ...models.utils.teacher_output_cache import STAGES, TeacherOutputCache

__all__ = ['TeacherCacheHook', 'cache_key', 'random_transforms']

#: Transforms that draw random numbers, beyond those named ``Random*``.
RANDOM_TRANSFORMS = frozenset({
    'AutoAugment', 'RandAugment', 'ColorJitter', 'Lighting', 'GaussianBlur',
    'Albumentations', 'Albu', 'Mixup', 'CutMix', 'ResizeMix', 'RandomErasing'
})


def random_transforms(pipeline: Any) -> List[str]:
    """Names of the transforms of ``pipeline`` (a Compose or a list) that
    draw random numbers, nested ones included."""
    found = []
    transforms = getattr(pipeline, 'transforms', pipeline) or []
    for transform in transforms:
        if isinstance(transform, (list, tuple)):  # e.g. RandomChoice's
            found += random_transforms(transform)
            continue
        name = transform.get('type', '') if isinstance(transform, dict) else \
            type(transform).__name__
        name = name.rpartition('.')[2] if isinstance(name, str) else \
            getattr(name, '__name__', '')
        if 'Random' in name or name in RANDOM_TRANSFORMS:
            found.append(name)
        inner = transform.get('transforms') if isinstance(transform, dict) \
            else getattr(transform, 'transforms', None)
        if inner:
            found += random_transforms(inner)
    return found


def _hash_tensors(items: Iterable) -> str:
    digest = hashlib.sha256()
    for name, value in items:
        digest.update(str(name).encode())
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().contiguous()
            digest.update(str((value.dtype, tuple(value.shape))).encode())
            digest.update(value.reshape(-1).view(torch.uint8).numpy()
                          .tobytes() if value.numel() else b'')
        elif isinstance(value, np.ndarray):
            digest.update(str((value.dtype, value.shape)).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def _dataset_hash(dataset: Any) -> str:
    """A hash of every sample's data info (arrays by content, files by
    path, size and modification time)."""
    items = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        for key in sorted(info):
            items.append((f'{i}.{key}', info[key]))
            if key == 'img_path' and osp.isfile(info[key]):
                stat = osp.getmtime(info[key]), osp.getsize(info[key])
                items.append((f'{i}.stat', stat))
    return _hash_tensors(items)


def cache_key(teacher: torch.nn.Module, dataset: Any, preprocessor: Any,
              layers: Dict[str, Sequence[str]]) -> Dict[str, Any]:
    """What the cached outputs depend on.

    Args:
        teacher (nn.Module): The teacher (weights and buffers).
        dataset (BaseDataset): The training dataset (its samples and
            pipeline).
        preprocessor (nn.Module): The data preprocessor (its class, its
            settings and buffers, e.g. mean and std).
        layers (dict): Per stage, what the teacher outputs are (layer paths
            of the hints, recorder sources).

    Returns:
        dict: JSON-able; ``digest`` names the cache files.
    """
    settings = {k: v for k, v in vars(preprocessor).items()
                if not k.startswith('_') and k != 'training'
                and isinstance(v, (int, float, str, bool, tuple, list,
                                   dict, type(None)))}
    key = dict(
        teacher=_hash_tensors(sorted(teacher.state_dict().items())),
        data=_dataset_hash(dataset),
        num_samples=len(dataset),
        pipeline=repr(getattr(dataset, 'pipeline', None)),
        preprocessor=type(preprocessor).__name__ + repr(sorted(
            settings.items())) + _hash_tensors(
                sorted(preprocessor.state_dict().items())),
        layers={k: list(v) for k, v in layers.items()})
    key['digest'] = hashlib.sha256(
        json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    return key


@HOOKS.register_module()
class TeacherCacheHook(Hook):
    """Reuse the frozen teacher's outputs: stage-1 hint maps and stage-2
    logits, computed once per dataset and kept in ``dir``.

    The first epoch of a stage runs the teacher and stores its outputs per
    training sample (``sample_idx``); later epochs, and later runs with the
    same teacher, data and pipeline (other seeds, other students, other
    hyper-parameters), read them instead. The files are named by a hash of
    the teacher's weights and buffers, every training sample, the training
    pipeline, the data preprocessor and the recorded layers, so a change of
    any of them computes new outputs.

    Note:
        Only a pipeline without random transforms gives one output per
        sample; one with them is refused. The served outputs are those of
        the teacher in eval mode on that sample, as without the cache; they
        may differ from a fresh forward in the last bits, as any change of
        batch composition does. Validation and test forwards are not
        cached.

    Args:
        dir (str): Where the cache files go. Defaults to
            ``'work_dirs/teacher_cache'``.
        stages (Sequence[str]): Stages to cache, ``'hint'`` and/or
            ``'kd'``. Defaults to both.
        max_gb (float): The most memory (and disk) the outputs may take.
            Defaults to 4.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 dir: str = 'work_dirs/teacher_cache',
                 stages: Sequence[str] = STAGES,
                 max_gb: float = 4.0) -> None:
        stages = [stages] if isinstance(stages, str) else list(stages)
        unknown = [s for s in stages if s not in STAGES]
        if unknown or not stages:
            raise ValueError(f'`stages` must be some of {STAGES}, but got '
                             f'{stages!r}.')
        self.dir = dir
        self.stages = stages
        self.max_gb = max_gb
        self.cache: Optional[TeacherOutputCache] = None
        self.key: Optional[Dict[str, Any]] = None
        self.saved: Dict[str, bool] = {}

    @staticmethod
    def _algorithm(runner: Any) -> Any:
        return runner.model.module if is_model_wrapper(runner.model) else \
            runner.model

    def path(self, stage: str) -> str:
        """The file of ``stage``'s outputs."""
        return osp.join(self.dir, f'{self.key["digest"]}-{stage}.pth')

    def before_train(self, runner: Any) -> None:
        """Check the run can be cached, key it and load what is on disk."""
        model = self._algorithm(runner)
        if not hasattr(model, 'teacher') or not hasattr(model, 'hint_pairs'):
            raise TypeError('TeacherCacheHook needs a FitNetsDistill model, '
                            f'but got {type(model).__name__}.')
        if getattr(model, 'teacher_trainable', False):
            raise ValueError('TeacherCacheHook needs a frozen teacher, but '
                             'teacher_trainable=True.')
        if len(getattr(model.distiller, 'deliveries', {}).deliveries or {}):
            raise ValueError(
                'TeacherCacheHook cannot replay distill_deliveries '
                f'({sorted(model.distiller.deliveries.deliveries)}); drop '
                'the hook or the deliveries.')
        dataset = runner.train_dataloader.dataset
        while not hasattr(dataset, 'get_data_info') and \
                hasattr(dataset, 'dataset'):
            dataset = dataset.dataset  # a wrapper, e.g. ArrayBatchDataset
        if not hasattr(dataset, 'get_data_info'):
            raise TypeError(
                'TeacherCacheHook needs an mmengine BaseDataset (samples '
                f'with sample_idx), but got {type(dataset).__name__}.')
        random = random_transforms(getattr(dataset, 'pipeline', None))
        preprocessor = model.data_preprocessor
        if getattr(preprocessor, 'crop_flip', None):
            random.append('data_preprocessor.crop_flip')
        if getattr(preprocessor, 'batch_augments', None) is not None:
            random.append('data_preprocessor.batch_augments')
        if random:
            raise ValueError(
                f'TeacherCacheHook: the training data has the random '
                f'transform(s) {random}, so the teacher sees other inputs '
                'every epoch and its outputs cannot be cached; drop the hook '
                'or the transform(s).')
        layers = dict(
            hint=[str(p['teacher']) for p in model.hint_pairs] +
            [str(p['teacher']) for p in getattr(model, 'fsp_pairs', [])],
            kd=[f'{name}:{type(r).__name__}:{r.source}' for name, r in
                model.distiller.teacher_recorders.recorders.items()])
        self.key = cache_key(model.teacher, dataset, preprocessor,
                             {s: layers[s] for s in self.stages})
        self.cache = TeacherOutputCache(len(dataset),
                                        int(self.max_gb * 2**30))
        for stage in self.stages:
            loaded = self.cache.load(stage, self.path(stage), self.key)
            self.saved[stage] = loaded
            runner.logger.info(
                f'TeacherCacheHook: stage {stage!r} teacher outputs '
                + (f'loaded from {self.path(stage)}.' if loaded else
                   f'computed in its first epoch, then kept in '
                   f'{self.path(stage)}.'))
        model.teacher_cache = self.cache

    def before_train_iter(self, runner: Any, batch_idx: int,
                          data_batch: Any = None) -> None:
        """Tell the cache which samples the batch holds."""
        stage = getattr(self._algorithm(runner), 'stage', None)
        if stage not in self.stages or getattr(
                self._algorithm(runner), 'hint_block', None) is not None:
            self.cache.set_batch(None)
            return
        samples = data_batch.get('data_samples') if isinstance(
            data_batch, dict) else None
        try:
            indices = [s.metainfo['sample_idx'] for s in samples]
        except (TypeError, KeyError, AttributeError):
            raise KeyError(
                'TeacherCacheHook needs the sample_idx of every training '
                'sample in its data sample (PackInputs keeps it by '
                'default), but the batch has none.') from None
        self.cache.set_batch(indices)

    def after_train_iter(self, runner: Any, batch_idx: int,
                         data_batch: Any = None, outputs: Any = None) -> None:
        """No caching outside training iterations."""
        self.cache.set_batch(None)

    def after_train_epoch(self, runner: Any) -> None:
        """Save each stage once it is complete."""
        for stage in self.stages:
            if not self.saved[stage] and self.cache.complete(stage):
                self.cache.save(stage, self.path(stage), self.key)
                self.saved[stage] = True
                runner.logger.info(
                    f'TeacherCacheHook: stage {stage!r} teacher outputs of '
                    f'{self.cache.num_samples} samples saved to '
                    f'{self.path(stage)}.')

    def after_train(self, runner: Any) -> None:
        """Log how often the teacher ran and how often it was read."""
        text = ', '.join(f'{s}: {self.cache.hits[s]} batches read, '
                         f'{self.cache.misses[s]} computed'
                         for s in self.stages)
        runner.logger.info(f'TeacherCacheHook: {text}.')
        self._algorithm(runner).teacher_cache = None

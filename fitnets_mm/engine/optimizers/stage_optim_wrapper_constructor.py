"""One optimizer per FitNets stage: ``optim_wrapper=dict(hint=..., kd=...)``.
"""
import copy
from typing import Any, Dict, List, Optional, Set

import torch
from mmengine.model import is_model_wrapper
from mmengine.optim import (DefaultOptimWrapperConstructor, OptimWrapper,
                            OptimWrapperDict)
from mmrazor.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

__all__ = ['StageOptimWrapperConstructor', 'hint_trained_parameters']

STAGE_KEYS = ('hint', 'kd')
#: Top-level keys applied to both stages unless a stage sets its own (so
#: that ``tools/train.py --amp`` sets ``type='AmpOptimWrapper'`` for both).
SHARED_KEYS = ('type', 'optimizer', 'clip_grad', 'accumulative_counts',
               'loss_scale', 'dtype')


def hint_trained_parameters(algorithm: nn.Module) -> Set[int]:
    """Ids of the parameters that FitNets' stage 1 trains.

    Found by looking, not by naming: one stage-1 loss on a batch of zeros of
    ``algorithm.input_shape`` is back-propagated in eval mode, and every
    trainable parameter that receives a gradient is a hint-trained one (the
    student up to its guided layer(s), the regressors). Gradients are
    cleared afterwards; the stage and the train/eval mode are restored.

    Args:
        algorithm (nn.Module): A :class:`FitNetsDistill` with hint pairs.

    Returns:
        set[int]: ``id`` of each hint-trained parameter.
    """
    params = [p for p in algorithm.parameters() if p.requires_grad]
    saved = [p.grad for p in params]
    stage, training = algorithm.stage, algorithm.training
    x = torch.zeros((2, ) + tuple(algorithm.input_shape))
    try:
        algorithm.eval()
        algorithm.set_stage('hint')
        for p in params:
            p.grad = None
        losses = algorithm.loss(x, None)
        total = sum(v.sum() for k, v in losses.items() if 'loss' in k)
        total.backward()
        return {id(p) for p in params if p.grad is not None}
    finally:
        for p, g in zip(params, saved):
            p.grad = g
        algorithm.set_stage(stage)
        algorithm.train(training)


def _keep_params(wrapper: OptimWrapper, keep: Set[int]) -> None:
    """Drop from ``wrapper``'s optimizer every parameter not in ``keep``."""
    groups = wrapper.optimizer.param_groups
    for group in groups:
        group['params'] = [p for p in group['params'] if id(p) in keep]
    # An empty group is kept when nothing is left (the hint optimizer of a
    # run without hints), so that its learning rate can still be logged.
    groups[:] = [g for g in groups if g['params']] or groups[:1]


def _scale_lr(wrapper: OptimWrapper, scaled: Set[int], mult: float) -> int:
    """Move the parameters in ``scaled`` to copies of their groups with the
    learning rate times ``mult``; return how many moved."""
    groups = wrapper.optimizer.param_groups
    new_groups: List[Dict[str, Any]] = []
    moved = 0
    for group in groups:
        inside = [p for p in group['params'] if id(p) in scaled]
        if not inside:
            new_groups.append(group)
            continue
        moved += len(inside)
        rest = [p for p in group['params'] if id(p) not in scaled]
        if rest:
            new_groups.append(dict(group, params=rest))
        new_groups.append(dict(group, params=inside, lr=group['lr'] * mult))
    groups[:] = new_groups
    return moved


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class StageOptimWrapperConstructor:
    """Build one optimizer wrapper per FitNets stage.

    The authors train stage 1 and stage 2 as two separate runs, so stage 2
    starts from a fresh optimizer, and their ``-lrs`` option scales the
    learning rate of the hint-trained layers in stage 2. This constructor
    builds an :class:`OptimWrapperDict` with keys ``'hint'`` and ``'kd'``;
    :class:`FitNetsTrainLoop` steps the wrapper of the epoch's stage, so
    each stage has its own optimizer type, settings, ``paramwise_cfg``,
    parameter schedulers (``param_scheduler=dict(hint=[...], kd=[...])``)
    and state, all saved and resumed by the Runner.

    * ``hint`` optimizes only what stage 1 trains: the student up to the
      guided layer(s) and the regressors (:func:`hint_trained_parameters`);
    * ``kd`` optimizes every trainable parameter except the regressors and
      hint losses; those that stage 1 trained get their learning rate
      multiplied by ``kd_hint_lr_mult``.

    Examples:
        >>> optim_wrapper = dict(
        ...     constructor='mmrazor.StageOptimWrapperConstructor',
        ...     hint=dict(optimizer=dict(type='RMSprop', lr=5e-4,
        ...                              alpha=0.9)),
        ...     kd=dict(optimizer=dict(type='RMSprop', lr=5e-4, alpha=0.9)),
        ...     kd_hint_lr_mult=0.1)

    Args:
        optim_wrapper_cfg (dict): ``hint`` and ``kd``, each an optimizer
            wrapper config as mmengine's (``optimizer``, optional ``type``,
            ``clip_grad``, ``paramwise_cfg``...); a missing one copies the
            other, unless a top-level ``optimizer`` is given. Top-level ``type``, ``optimizer``, ``clip_grad``,
            ``accumulative_counts``, ``loss_scale`` and ``dtype`` are
            defaults of both. Optional ``kd_hint_lr_mult`` (float, default
            1.0).
        paramwise_cfg (dict, optional): Default ``paramwise_cfg`` of both
            stages. Defaults to None.
    """

    def __init__(self,
                 optim_wrapper_cfg: Dict,
                 paramwise_cfg: Optional[Dict] = None) -> None:
        cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        self.kd_hint_lr_mult = float(cfg.pop('kd_hint_lr_mult', 1.0))
        if self.kd_hint_lr_mult < 0:
            raise ValueError('`kd_hint_lr_mult` must be >= 0, but got '
                             f'{self.kd_hint_lr_mult}.')
        shared = {k: cfg.pop(k) for k in list(cfg) if k in SHARED_KEYS}
        unknown = set(cfg) - set(STAGE_KEYS)
        if unknown or not (cfg or 'optimizer' in shared):
            raise ValueError(
                'StageOptimWrapperConstructor expects `hint` and/or `kd` '
                'optimizer wrapper configs (and `kd_hint_lr_mult`, and '
                f'settings shared by both: {SHARED_KEYS}), but got keys '
                f'{sorted(optim_wrapper_cfg)}.')
        for key in STAGE_KEYS:
            if key not in cfg:
                # the shared optimizer, else a copy of the other stage's
                other = STAGE_KEYS[key == 'hint']
                cfg[key] = {} if 'optimizer' in shared else \
                    copy.deepcopy(cfg.get(other, {}))
            if isinstance(cfg[key], dict):
                cfg[key] = dict(copy.deepcopy(shared), **cfg[key])
            if not isinstance(cfg[key], dict) or 'optimizer' not in cfg[key]:
                raise ValueError(
                    f'optim_wrapper.{key} must be an optimizer wrapper config '
                    f'with `optimizer`, but got {cfg[key]!r}.')
        self.stage_cfgs = cfg
        self.paramwise_cfg = paramwise_cfg

    def _build_one(self, model: nn.Module, cfg: Dict) -> OptimWrapper:
        cfg = copy.deepcopy(cfg)
        paramwise = cfg.pop('paramwise_cfg', self.paramwise_cfg)
        cfg.pop('constructor', None)
        return DefaultOptimWrapperConstructor(cfg, paramwise)(model)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Build the ``hint`` and ``kd`` optimizer wrappers of ``model``."""
        algorithm = model.module if is_model_wrapper(model) else model
        if not hasattr(algorithm, 'hint_pairs'):
            raise TypeError('StageOptimWrapperConstructor builds the '
                            'optimizers of a FitNetsDistill, but got '
                            f'{type(algorithm).__name__}.')
        stage_only = {
            id(p)
            for m in (algorithm.regressors, algorithm.hint_losses)
            for p in m.parameters()
        }
        trainable = {id(p) for p in algorithm.parameters() if p.requires_grad}
        hint_ids = hint_trained_parameters(algorithm) \
            if algorithm.hint_pairs else set()
        hint = self._build_one(algorithm, self.stage_cfgs['hint'])
        kd = self._build_one(algorithm, self.stage_cfgs['kd'])
        _keep_params(hint, hint_ids)
        _keep_params(kd, trainable - stage_only)
        if self.kd_hint_lr_mult != 1.0:
            _scale_lr(kd, hint_ids - stage_only, self.kd_hint_lr_mult)
        return OptimWrapperDict(hint=hint, kd=kd)

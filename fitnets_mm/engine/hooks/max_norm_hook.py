"""Max-norm constraints on weights after every update (pylearn2 semantics)."""
import fnmatch
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS
from torch import nn

__all__ = ['MaxNormHook', 'apply_max_norm']

_TYPES = {
    'Conv1d': nn.Conv1d,
    'Conv2d': nn.Conv2d,
    'Conv3d': nn.Conv3d,
    'ConvTranspose2d': nn.ConvTranspose2d,
    'Linear': nn.Linear,
}


@torch.no_grad()
def apply_max_norm(module: nn.Module, max_norm: float,
                   eps: float = 1e-7) -> int:
    """Rescale each output unit's weights of ``module`` to norm <= max_norm.

    The norm of one output unit is taken over all its incoming weights: for
    a conv over (in, kh, kw) (pylearn2's ``max_kernel_norm``), for a linear
    layer over its inputs (pylearn2's ``max_col_norm``, a column of
    pylearn2's (in, out) matrix). Units whose norm exceeds ``max_norm`` are
    scaled by ``max_norm / (eps + norm)``, as pylearn2 does; the others and
    the bias are left untouched.

    Args:
        module (nn.Module): A conv, transposed conv or linear layer.
        max_norm (float): The largest norm allowed.
        eps (float): Added to the norm before dividing. Defaults to 1e-7.

    Returns:
        int: The number of output units rescaled.
    """
    weight = module.weight
    # ConvTranspose weights are (in, out, ...): units are along dim 1.
    unit_dim = 1 if isinstance(module, nn.modules.conv._ConvTransposeNd) \
        else 0
    w = weight.transpose(0, unit_dim) if unit_dim else weight
    norms = w.reshape(w.shape[0], -1).norm(dim=1)
    over = norms > max_norm
    if not bool(over.any()):
        return 0
    scale = torch.where(over, max_norm / (eps + norms),
                        torch.ones_like(norms))
    shape = [1] * weight.dim()
    shape[unit_dim] = -1
    weight.mul_(scale.reshape(shape).to(weight.dtype))
    return int(over.sum())


@HOOKS.register_module()
class MaxNormHook(Hook):
    """Constrain weight norms per output unit after every optimizer step.

    The FitNets paper trains its maxout networks as pylearn2 does: after each
    update, every conv kernel (one output unit's weights over
    (in, kh, kw)) whose norm exceeds ``max_kernel_norm`` and every fully
    connected column exceeding ``max_col_norm`` is rescaled to that norm
    (:func:`apply_max_norm`). This is what keeps these normalisation-free
    nets trainable at the paper's learning rates.

    Each rule selects modules of the runner's model by dotted path
    (``fnmatch`` patterns, e.g. ``'architecture.backbone.*'``) and by type;
    every module matching a rule's ``modules`` and ``types`` gets that
    rule's ``max_norm``, the first matching rule winning. Modules whose
    weight does not require a gradient (a frozen teacher) are never touched.

    Note:
        Runs after every training iteration (priority ``ABOVE_NORMAL``, so
        before the checkpoint and logger). The projection is idempotent, so
        iterations without an optimizer step (gradient accumulation) leave
        the weights as they are.

    Examples:
        >>> custom_hooks = [dict(
        ...     type='mmrazor.MaxNormHook',
        ...     rules=[
        ...         dict(modules='architecture.backbone.*', types='Conv2d',
        ...              max_norm=1.9365),
        ...         dict(modules='architecture.head.fc', max_norm=1.9365),
        ...     ])]

    Args:
        rules (Sequence[dict]): Each ``dict(max_norm=float, modules=str |
            list[str], types=str | list[str], required=bool)``; ``modules``
            defaults to ``'*'`` and ``types`` to conv, transposed conv and
            linear layers (by class name: ``Conv1d``, ``Conv2d``,
            ``Conv3d``, ``ConvTranspose2d``, ``Linear``). A rule selecting
            no module is an error unless ``required=False`` (e.g. for the
            regressors of a config that may run without hints).
        eps (float): Added to the norm before dividing. Defaults to 1e-7.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, rules: Sequence[Dict], eps: float = 1e-7) -> None:
        if isinstance(rules, dict):
            rules = [rules]
        if not rules:
            raise ValueError('MaxNormHook needs at least one rule, but got '
                             f'{rules!r}.')
        self.rules: List[Dict[str, Any]] = []
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict) or 'max_norm' not in rule:
                raise ValueError(
                    f'rules[{i}] must be a dict with `max_norm` (and '
                    f'optional `modules`, `types`), but got {rule!r}.')
            unknown = set(rule) - {'max_norm', 'modules', 'types', 'required'}
            if unknown:
                raise ValueError(
                    f'rules[{i}] has unknown keys {sorted(unknown)}; '
                    'expected max_norm, modules, types, required.')
            max_norm = float(rule['max_norm'])
            if not max_norm > 0:
                raise ValueError(f'rules[{i}] `max_norm` must be > 0, but '
                                 f'got {rule["max_norm"]!r}.')
            self.rules.append(
                dict(
                    max_norm=max_norm,
                    modules=self._as_list(rule.get('modules', '*')),
                    types=self._types(rule.get('types', list(_TYPES)), i),
                    required=bool(rule.get('required', True))))
        self.eps = eps
        self.targets: List[Tuple[str, nn.Module, float]] = []

    @staticmethod
    def _as_list(value: Union[str, Sequence[str]]) -> List[str]:
        return [value] if isinstance(value, str) else list(value)

    @classmethod
    def _types(cls, value: Union[str, Sequence[str]],
               index: int) -> Tuple[type, ...]:
        names = cls._as_list(value)
        unknown = [n for n in names if n not in _TYPES]
        if unknown:
            raise ValueError(f'rules[{index}] `types` {unknown} are not '
                             f'supported; expected some of {list(_TYPES)}.')
        return tuple(_TYPES[n] for n in names)

    def before_train(self, runner: Any) -> None:
        """Resolve the rules to modules; fail if a rule selects none."""
        model = runner.model.module if is_model_wrapper(runner.model) else \
            runner.model
        self.targets = self.resolve(model)

    def resolve(self, model: nn.Module) -> List[Tuple[str, nn.Module, float]]:
        """The ``(path, module, max_norm)`` the rules select in ``model``.

        Raises:
            ValueError: A required rule selects no trainable module; the
                message lists some module paths of that type.
        """
        targets: Dict[str, Tuple[nn.Module, float]] = {}
        for i, rule in enumerate(self.rules):
            found = 0
            for path, module in model.named_modules():
                if not isinstance(module, rule['types']) or \
                        not module.weight.requires_grad:
                    continue
                if any(fnmatch.fnmatchcase(path, p) for p in rule['modules']):
                    found += 1
                    targets.setdefault(path, (module, rule['max_norm']))
            if not found and rule['required']:
                candidates = [
                    p for p, m in model.named_modules()
                    if isinstance(m, rule['types'])
                    and m.weight.requires_grad
                ][:8]
                raise ValueError(
                    f'MaxNormHook rules[{i}] (modules={rule["modules"]}) '
                    f'selects no trainable module of types '
                    f'{[t.__name__ for t in rule["types"]]}; some such '
                    f'modules: {candidates}.')
        return [(p, m, n) for p, (m, n) in targets.items()]

    def after_train_iter(self,
                         runner: Any,
                         batch_idx: int,
                         data_batch: Optional[Any] = None,
                         outputs: Optional[Any] = None) -> None:
        """Project the selected weights back into their norm balls."""
        for _, module, max_norm in self.targets:
            apply_max_norm(module, max_norm, self.eps)

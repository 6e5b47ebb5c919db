"""Make MMRazor 1.0.0 walk ``nn.Module._modules`` as a plain ``dict``.

Since PyTorch 2.0, ``nn.Module._modules`` is a ``dict``, no longer an
``OrderedDict``. Two places of MMRazor 1.0.0 test for ``OrderedDict`` and
silently do the wrong thing:

* ``BaseAlgorithm.set_module_inplace_false`` (``mmrazor/models/algorithms/
  base.py``) recurses only into ``OrderedDict``s, so it never reaches the
  in-place activations it is asked to switch off. A recorder of a
  pre-activation output (OFD records ``bn1``, the input of an in-place ReLU)
  then holds post-ReLU values. :func:`patch_set_module_inplace_false` walks
  every child instead, with the same rule (a module with an ``inplace``
  attribute gets ``inplace=False``, its children are not visited).
* ``DynamicSequential.convert_from`` (``mmrazor/models/architectures/
  dynamic_ops/bricks/dynamic_container.py``) passes ``module._modules`` to
  ``nn.Sequential.__init__``, which only unpacks an ``OrderedDict`` and
  otherwise fails with ``TypeError: dict is not a Module subclass``.
  :func:`patch_dynamic_sequential` passes an ``OrderedDict``.

Both are applied by :mod:`fitnets_mm_startup`'s import hook when MMRazor's
module is imported; both are announced once in the log when they first
change something; ``FITNETS_MM_COMPAT_OFF=mmrazor_inplace`` turns them off.
"""
import types
from collections import OrderedDict
from typing import Any, Callable, List, Mapping, Optional, Union

from torch import nn

__all__ = [
    'patch_dynamic_sequential', 'patch_set_module_inplace_false',
    'set_module_inplace_false', 'upstream_set_module_inplace_false'
]

#: MMRazor's own method, kept by :func:`patch_set_module_inplace_false`.
upstream_set_module_inplace_false: Optional[Callable] = None


def _switch_off(architecture: Union[nn.Module, Mapping], found: List[str],
                prefix: str) -> None:
    if isinstance(architecture, nn.Module):
        if hasattr(architecture, 'inplace'):
            if architecture.inplace:
                found.append(prefix)
            architecture.inplace = False
            return
        architecture = architecture._modules
    if isinstance(architecture, Mapping):
        for key, value in architecture.items():
            _switch_off(value, found, f'{prefix}.{key}')


def set_module_inplace_false(self: Any, architecture: Union[nn.Module,
                                                            Mapping],
                             varstr: str) -> None:
    """Set ``inplace=False`` on every module of ``architecture`` that has it.

    Same contract as MMRazor's ``BaseAlgorithm.set_module_inplace_false``
    (``varstr`` names the architecture in the log), for ``_modules`` of any
    mapping type.

    Args:
        architecture (nn.Module | Mapping): The model or a mapping of
            modules.
        varstr (str): The attribute path of ``architecture``, e.g.
            ``'self.teacher'``.
    """
    found: List[str] = []
    _switch_off(architecture, found, varstr)
    if found:
        from fitnets_mm_startup import announce
        announce(
            'mmrazor_inplace',
            f'switched off {len(found)} in-place activation(s) that '
            'MMRazor\'s BaseAlgorithm.set_module_inplace_false misses on '
            f'torch 2.x (_modules is a dict), e.g. {found[0]}')


def patch_set_module_inplace_false(module: types.ModuleType) -> None:
    """Replace ``BaseAlgorithm.set_module_inplace_false`` in ``module``.

    Args:
        module (ModuleType): ``mmrazor.models.algorithms.base``.
    """
    cls = module.BaseAlgorithm
    if cls.set_module_inplace_false is not set_module_inplace_false:
        global upstream_set_module_inplace_false
        upstream_set_module_inplace_false = cls.set_module_inplace_false
        cls.set_module_inplace_false = set_module_inplace_false


def patch_dynamic_sequential(module: types.ModuleType) -> None:
    """Make ``DynamicSequential.convert_from`` pass an ``OrderedDict``.

    Args:
        module (ModuleType): ``mmrazor.models.architectures.dynamic_ops.
            bricks.dynamic_container``.
    """
    cls = module.DynamicSequential

    def convert_from(klass: type, source: nn.Sequential) -> nn.Sequential:
        """Convert the static Sequential to a dynamic one."""
        from fitnets_mm_startup import announce
        if not isinstance(source._modules, OrderedDict):
            announce(
                'mmrazor_inplace',
                'DynamicSequential.convert_from gets an OrderedDict of '
                'modules (torch 2.x has a dict, which nn.Sequential '
                'refuses)',
                key='mmrazor_inplace.dynamic_sequential')
        return klass(OrderedDict(source._modules))

    cls.convert_from = classmethod(convert_from)

"""Describe a hint regressor and check that it maps the guided output to the
hint's shape (one run on zeros)."""
from typing import Tuple

import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd

from ..models.connectors import HintRegressor

__all__ = ['check_regressor', 'describe_regressor']


def describe_regressor(regressor: nn.Module) -> str:
    """One line on the regressor's layer, kernel, stride and activation.

    Args:
        regressor (nn.Module): A :class:`HintRegressor` or any module.

    Returns:
        str: E.g. ``'Conv2d(256, 128, kernel_size=(3, 3), ...) + ReLU:
        kernel 3x3, stride 1x1, padding 1x1'``.
    """
    layer = getattr(regressor, 'layer', None)
    if not isinstance(regressor, HintRegressor) or layer is None:
        return ' '.join(repr(regressor).split())
    act = getattr(regressor, 'act', None)
    text = repr(layer)
    if act is not None and not isinstance(act, nn.Identity):
        text += f' + {type(act).__name__}'
    if isinstance(layer, _ConvNd):
        kind = 'transposed conv' if layer.transposed else 'conv'
        dims = ('x'.join(str(v) for v in getattr(layer, attr))
                for attr in ('kernel_size', 'stride', 'padding'))
        text += ': {} kernel {}, stride {}, padding {}'.format(kind, *dims)
    elif isinstance(layer, nn.Linear):
        text += ': linear (vector hint)'
    return text


@torch.no_grad()
def check_regressor(regressor: nn.Module, guided: Tuple[int, ...],
                     hint: Tuple[int, ...]) -> str:
    """'' if ``regressor`` maps a ``guided`` tensor to ``hint``'s shape."""
    was_training = regressor.training
    regressor.eval()
    try:
        out = regressor(torch.zeros(guided))
    except Exception as err:  # report any failure of a user's module
        return (f'the regressor fails on the guided output {guided}: '
                f'{type(err).__name__}: {err}')
    finally:
        regressor.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != hint:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else \
            type(out).__name__
        return f'the regressor outputs {got}, but the hint is {hint}'
    return ''

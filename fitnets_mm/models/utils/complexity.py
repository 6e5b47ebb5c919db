"""Model size and cost as the FitNets paper counts them (Table 5).

The paper reports parameters and multiplications: the multiply-accumulates
of its conv and fully-connected layers for one image. Maxout layers count
as the convs or linear layers they contain (``C * k`` outputs); max-pooling,
the max over pieces and biases cost nothing.
"""
from typing import List, Sequence

import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd

__all__ = ['count_params', 'count_mult']


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Count the parameters of ``module``.

    Args:
        module (nn.Module): The model.
        trainable_only (bool): Count only parameters with
            ``requires_grad``. Defaults to False.

    Returns:
        int: The number of parameter elements.
    """
    return sum(p.numel() for p in module.parameters()
               if p.requires_grad or not trainable_only)


def count_mult(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Count the multiplications of one forward pass on one sample.

    Forward hooks on every conv (``nn.Conv1d/2d/3d``, transposed too) and
    ``nn.Linear`` add, per call, ``outputs * in_channels / groups * kernel``
    (conv) or ``outputs * in_features`` (linear), where ``outputs`` counts
    the output elements of one sample. ``module`` runs once in eval mode
    under ``torch.no_grad`` on a zero input; the train/eval mode of every
    submodule is restored after.

    Note:
        The input is passed as ``module(x)``, so an mmpretrain
        ``ImageClassifier`` runs in ``mode='tensor'`` (backbone, neck and
        head) and its data preprocessor is skipped.

    Args:
        module (nn.Module): The model.
        input_shape (Sequence[int]): Shape of one sample without the batch
            dim, e.g. ``(3, 32, 32)``.

    Returns:
        int: The number of multiplications.
    """
    shape = tuple(input_shape)
    if not shape or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1
            for s in shape):
        raise ValueError('`input_shape` must be the positive sizes of one '
                         'sample without the batch dim, e.g. (3, 32, 32), '
                         f'but got {input_shape!r}.')
    total: List[int] = [0]

    def conv_hook(layer: _ConvNd, inputs: tuple,
                  output: torch.Tensor) -> None:
        per_output = layer.in_channels // layer.groups
        for k in layer.kernel_size:
            per_output *= k
        if layer.transposed:
            # Each input element meets out_channels / groups * kernel weights.
            total[0] += inputs[0][0].numel() * (
                per_output * layer.out_channels // layer.in_channels)
        else:
            total[0] += output[0].numel() * per_output

    def linear_hook(layer: nn.Linear, inputs: tuple,
                    output: torch.Tensor) -> None:
        total[0] += output[0].numel() * layer.in_features

    handles = []
    for sub in module.modules():
        if isinstance(sub, _ConvNd):
            handles.append(sub.register_forward_hook(conv_hook))
        elif isinstance(sub, nn.Linear):
            handles.append(sub.register_forward_hook(linear_hook))
    param = next(module.parameters(), None)
    x = torch.zeros(
        1,
        *shape,
        device=None if param is None else param.device,
        dtype=None if param is None else param.dtype)
    modes = {sub: sub.training for sub in module.modules()}
    module.eval()
    try:
        with torch.no_grad():
            module(x)
    finally:
        for handle in handles:
            handle.remove()
        for sub, training in modes.items():
            sub.training = training
    return total[0]

"""Maxout units (Goodfellow et al., 2013) and the FitNets paper's max-pooling.

The FitNets networks (Romero et al., 2015) are stacks of pylearn2
``MaxoutConvC01B`` layers: a convolution producing ``C * k`` channels, the
maximum over each unit's ``k`` linear pieces, then a spatial max-pooling.
:class:`MaxoutConv2d` is that layer, :class:`MaxoutLinear` its
fully-connected counterpart (pylearn2 ``Maxout``) and :func:`paper_max_pool`
the pooling that covers every input position, as pylearn2 pools.
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

__all__ = ['Maxout', 'MaxoutConv2d', 'MaxoutLinear', 'paper_max_pool']


def _check_positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f'`{name}` must be a positive int, but got {value!r}.')
    return value


def paper_max_pool(kernel_size: int,
                   stride: Optional[int] = None) -> nn.MaxPool2d:
    """The FitNets paper's max-pooling: every input position is pooled.

    pylearn2 (the paper's framework) adds a last, partial window when the
    windows do not tile the map, so a 33x33 map pooled 4x4 with stride 2
    gives 16x16 (not 15x15). That is ``nn.MaxPool2d(ceil_mode=True)``.

    Args:
        kernel_size (int): Window size.
        stride (int, optional): Window stride. Defaults to ``kernel_size``.

    Returns:
        nn.MaxPool2d: The pooling layer.
    """
    _check_positive(kernel_size, 'kernel_size')
    stride = kernel_size if stride is None else _check_positive(
        stride, 'stride')
    return nn.MaxPool2d(kernel_size, stride=stride, ceil_mode=True)


class Maxout(nn.Module):
    """The maxout non-linearity: the maximum over each unit's pieces.

    The input's dim 1 holds ``C * num_pieces`` channels; channel
    ``c * num_pieces + j`` is piece ``j`` of unit ``c`` (pylearn2's order).
    The output has ``C`` channels and the input's other dims.

    Args:
        num_pieces (int): Linear pieces per unit, ``k``. Defaults to 2.
    """

    def __init__(self, num_pieces: int = 2) -> None:
        super().__init__()
        self.num_pieces = _check_positive(num_pieces, 'num_pieces')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Take the maximum over the pieces.

        Args:
            x (torch.Tensor): Shape (N, C * num_pieces, ...).

        Returns:
            torch.Tensor: Shape (N, C, ...).
        """
        channels = x.shape[1]
        if channels % self.num_pieces:
            raise ValueError(
                f'Maxout with {self.num_pieces} pieces needs a channel count '
                f'divisible by {self.num_pieces}, but got {channels} '
                f'channels (input shape {tuple(x.shape)}).')
        pieces = x.unflatten(1, (channels // self.num_pieces,
                                 self.num_pieces))
        return pieces.amax(dim=2)

    def extra_repr(self) -> str:
        return f'num_pieces={self.num_pieces}'


class MaxoutConv2d(BaseModule):
    """A maxout convolutional layer: conv, max over pieces, max-pooling.

    The layer of the FitNets networks (pylearn2 ``MaxoutConvC01B``). The
    conv at ``conv`` produces ``out_channels * num_pieces`` channels and
    holds all the parameters; ``pool`` is :func:`paper_max_pool` or None.
    Taking the maximum over the pieces before pooling gives the same result
    as pylearn2's pool-then-maxout (both are maxima) at less cost.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Maxout units, i.e. output channels.
        kernel_size (int): Conv kernel size. Defaults to 3.
        num_pieces (int): Linear pieces per unit. Defaults to 2.
        padding (int): Conv zero padding. Defaults to 1.
        pool_size (int, optional): Max-pooling window; None for no pooling.
            Defaults to None.
        pool_stride (int, optional): Max-pooling stride. Defaults to
            ``pool_size``.
        bias (bool): Whether the conv has a bias (one per piece, pylearn2's
            ``tied_b``). Defaults to True.
        init_cfg (dict, optional): Initialization config. Defaults to None
            (PyTorch's default conv init).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 num_pieces: int = 2,
                 padding: int = 1,
                 pool_size: Optional[int] = None,
                 pool_stride: Optional[int] = None,
                 bias: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        _check_positive(in_channels, 'in_channels')
        _check_positive(out_channels, 'out_channels')
        _check_positive(kernel_size, 'kernel_size')
        if isinstance(padding, bool) or not isinstance(padding,
                                                       int) or padding < 0:
            raise ValueError(
                f'`padding` must be an int >= 0, but got {padding!r}.')
        if pool_size is None and pool_stride is not None:
            raise ValueError('`pool_stride` needs a `pool_size`, but got '
                             f'pool_size=None and pool_stride={pool_stride}.')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_pieces = _check_positive(num_pieces, 'num_pieces')
        self.conv = nn.Conv2d(
            in_channels,
            out_channels * num_pieces,
            kernel_size,
            padding=padding,
            bias=bias)
        self.maxout = Maxout(num_pieces)
        self.pool = None if pool_size is None else paper_max_pool(
            pool_size, pool_stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply conv, maxout and pooling.

        Args:
            x (torch.Tensor): Shape (N, in_channels, H, W).

        Returns:
            torch.Tensor: Shape (N, out_channels, H', W').
        """
        x = self.maxout(self.conv(x))
        return x if self.pool is None else self.pool(x)


class MaxoutLinear(BaseModule):
    """A fully-connected maxout layer (pylearn2 ``Maxout``).

    The input is flattened from dim 1, so the layer reads a conv map
    (N, C, H, W) as a vector of ``C * H * W`` features, as in the paper.

    Args:
        in_features (int): Input features (after flattening).
        out_features (int): Maxout units, i.e. output features.
        num_pieces (int): Linear pieces per unit. Defaults to 2.
        bias (bool): Whether the linear layer has a bias. Defaults to True.
        init_cfg (dict, optional): Initialization config. Defaults to None
            (PyTorch's default linear init).
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 num_pieces: int = 2,
                 bias: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_features = _check_positive(in_features, 'in_features')
        self.out_features = _check_positive(out_features, 'out_features')
        self.num_pieces = _check_positive(num_pieces, 'num_pieces')
        self.fc = nn.Linear(in_features, out_features * num_pieces, bias=bias)
        self.maxout = Maxout(num_pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Flatten, apply the linear map and maxout.

        Args:
            x (torch.Tensor): Shape (N, ...) with ``in_features`` elements
                per sample.

        Returns:
            torch.Tensor: Shape (N, out_features).
        """
        x = x.flatten(1)
        if x.shape[1] != self.in_features:
            raise ValueError(
                f'MaxoutLinear expects {self.in_features} features per '
                f'sample, but got {x.shape[1]}; the input size differs from '
                'the one the network was built for.')
        return self.maxout(self.fc(x))

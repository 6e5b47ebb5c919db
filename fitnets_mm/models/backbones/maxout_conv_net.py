"""A plain stack of maxout layers, and the same picked from a table by name.

:class:`MaxoutConvNet` is the generic network the FitNets paper's maxout
networks are built from; :class:`MaxoutArchNet` is its subclass that takes an
``arch`` name from a table, which is all a paper backbone
(:class:`~fitnets_mm.models.backbones.FitNetCIFAR`,
:class:`~fitnets_mm.models.backbones.FitNetMNIST`) adds.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import nn

from .maxout import MaxoutConv2d, MaxoutLinear

__all__ = ['MaxoutConvNet', 'MaxoutArchNet']

_STAGE_KEYS = ('channels', 'kernel_size', 'padding', 'pool_size',
               'pool_stride', 'num_pieces')


def _per_layer(value: Union[int, Sequence[int], None], num: int, key: str,
               index: int) -> List[Optional[int]]:
    """Broadcast a stage setting to one value per conv layer."""
    if value is None or isinstance(value, int):
        return [value] * num
    values = list(value)
    if len(values) != num:
        raise ValueError(
            f'Stage {index}: `{key}` must be an int or have one value per '
            f'conv layer ({num}), but got {value!r}.')
    return values


@MODELS.register_module()
class MaxoutConvNet(BaseBackbone):
    """A plain stack of maxout layers: conv stages, then an optional
    fully-connected maxout layer.

    Each stage is a run of :class:`MaxoutConv2d` layers; its last layer
    carries the stage's max-pooling (pylearn2 pools inside a layer). All
    layers, the fully-connected one last, sit in ``layers`` and are numbered
    across stages from 0, so ``layers.<i>`` is a stable module path for hint
    and guided layers (``backbone.layers.<i>`` in a classifier), and the
    output of ``layers.<i>`` is the paper's output of layer ``h<i>``
    (pooling included).

    A stage is a dict with keys:

    * ``channels`` (list[int]): maxout units of each conv layer (required);
    * ``kernel_size`` (int | list[int]): Defaults to 3;
    * ``padding`` (int | list[int]): Defaults to 1;
    * ``pool_size`` (int | None): pooling window after the stage, None for
      none. Defaults to 2;
    * ``pool_stride`` (int): Defaults to ``pool_size``;
    * ``num_pieces`` (int): overrides the network's ``num_pieces`` for this
      stage. Defaults to the network's.

    Note:
        There are no normalization layers, as in the paper. The output
        shapes of all layers for ``input_size`` are found once, by a forward
        of a zero image, and kept in ``out_shapes``.

    Args:
        stages (Sequence[dict]): The conv stages, as above.
        in_channels (int): Input image channels. Defaults to 3.
        input_size (int | tuple[int, int]): Input image size (H, W); fixes
            the input features of the fully-connected layer. Defaults to 32.
        num_pieces (int): Linear pieces per maxout unit. Defaults to 2.
        fc_channels (int, optional): Units of the final fully-connected
            maxout layer; None for no such layer. Defaults to None.
        fc_pieces (int, optional): Pieces of the fully-connected layer.
            Defaults to ``num_pieces``.
        out_indices (int | Sequence[int]): Indices into ``layers`` whose
            outputs ``forward`` returns; negative ones count from the end.
            Defaults to -1 (the last layer).
        flatten_output (bool): Whether to flatten the returned features to
            (N, C * H * W), so that a ``LinearClsHead`` can read a conv map
            without a neck. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None (PyTorch's default init).
    """

    def __init__(self,
                 stages: Sequence[dict],
                 in_channels: int = 3,
                 input_size: Union[int, Tuple[int, int]] = 32,
                 num_pieces: int = 2,
                 fc_channels: Optional[int] = None,
                 fc_pieces: Optional[int] = None,
                 out_indices: Union[int, Sequence[int]] = -1,
                 flatten_output: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(stages, (list, tuple)) or not stages:
            raise ValueError('`stages` must be a non-empty list of stage '
                             f'dicts, but got {stages!r}.')
        if isinstance(input_size, int):
            input_size = (input_size, input_size)
        input_size = tuple(input_size)
        if len(input_size) != 2 or min(input_size) < 1:
            raise ValueError('`input_size` must be a positive int or (H, W), '
                             f'but got {input_size!r}.')
        self.in_channels = in_channels
        self.input_size = input_size
        self.num_pieces = num_pieces
        self.flatten_output = flatten_output

        self.layers = nn.ModuleList()
        channels = in_channels
        for index, stage in enumerate(stages):
            for spec in self._expand_stage(stage, index, num_pieces):
                self.layers.append(MaxoutConv2d(channels, **spec))
                channels = spec['out_channels']
        self.num_conv_layers = len(self.layers)

        self.out_shapes: List[Tuple[int, ...]] = self._look_at_shapes()
        if fc_channels is not None:
            in_features = 1
            for size in self.out_shapes[-1]:
                in_features *= size
            self.layers.append(
                MaxoutLinear(
                    in_features,
                    fc_channels,
                    num_pieces=num_pieces if fc_pieces is None else fc_pieces))
            self.out_shapes.append((fc_channels, ))

        self.out_indices = self._check_out_indices(out_indices)

    @staticmethod
    def _expand_stage(stage: dict, index: int,
                      num_pieces: int) -> List[dict]:
        """Turn a stage dict into ``MaxoutConv2d`` kwargs, one per layer."""
        if not isinstance(stage, dict):
            raise TypeError(f'Stage {index} must be a dict, but got '
                            f'{type(stage).__name__}: {stage!r}.')
        unknown = set(stage) - set(_STAGE_KEYS)
        if unknown:
            raise ValueError(f'Stage {index} has unknown keys '
                             f'{sorted(unknown)}; expected keys from '
                             f'{list(_STAGE_KEYS)}.')
        channels = stage.get('channels')
        if isinstance(channels, int):
            channels = [channels]
        if not channels:
            raise ValueError(f'Stage {index} needs `channels`, a non-empty '
                             f'list of ints, but got {channels!r}.')
        num = len(channels)
        kernels = _per_layer(stage.get('kernel_size', 3), num, 'kernel_size',
                             index)
        paddings = _per_layer(stage.get('padding', 1), num, 'padding', index)
        pieces = stage.get('num_pieces', num_pieces)
        pool_size = stage.get('pool_size', 2)
        pool_stride = stage.get('pool_stride', None)
        specs = []
        for i in range(num):
            last = i == num - 1
            specs.append(
                dict(
                    out_channels=channels[i],
                    kernel_size=kernels[i],
                    padding=paddings[i],
                    num_pieces=pieces,
                    pool_size=pool_size if last else None,
                    pool_stride=pool_stride if last else None))
        return specs

    @torch.no_grad()
    def _look_at_shapes(self) -> List[Tuple[int, ...]]:
        """Per-sample output shape of each conv layer for ``input_size``."""
        x = torch.zeros(1, self.in_channels, *self.input_size)
        shapes = []
        for index, layer in enumerate(self.layers):
            try:
                x = layer(x)
            except RuntimeError as err:
                raise ValueError(
                    f'Input size {self.input_size} is too small for '
                    f'layer {index} ({layer.conv}), whose input is '
                    f'{tuple(x.shape[1:])}: {err}') from err
            shapes.append(tuple(x.shape[1:]))
        return shapes

    def _check_out_indices(
            self, out_indices: Union[int, Sequence[int]]) -> Tuple[int, ...]:
        indices = [out_indices] if isinstance(out_indices,
                                              int) else list(out_indices)
        num = len(self.layers)
        if not indices:
            raise ValueError('`out_indices` must name at least one layer, '
                             f'but got {out_indices!r}.')
        checked = []
        for index in indices:
            if not isinstance(index, int) or not -num <= index < num:
                raise ValueError(
                    f'`out_indices` must be ints in [-{num}, {num - 1}] for '
                    f'a network of {num} layers, but got {out_indices!r}.')
            checked.append(index % num)
        return tuple(checked)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run the layers up to the last index in ``out_indices``.

        Args:
            x (torch.Tensor): Images, shape (N, in_channels, H, W).

        Returns:
            tuple[torch.Tensor]: The outputs of the layers in
            ``out_indices``, in that order.
        """
        feats: Dict[int, torch.Tensor] = {}
        last = max(self.out_indices)
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self.out_indices:
                feats[index] = x.flatten(1) if self.flatten_output else x
            if index == last:
                break
        return tuple(feats[index] for index in self.out_indices)


class MaxoutArchNet(MaxoutConvNet):
    """A :class:`MaxoutConvNet` picked by name from :attr:`arch_settings`.

    A subclass is a table: it sets :attr:`arch_settings` (``arch`` -> the
    ``stages`` and ``fc_channels`` of :class:`MaxoutConvNet`),
    :attr:`default_arch`, :attr:`image_shape` and
    :attr:`default_flatten_output`, and the paper's hint and guided layers
    (:attr:`paper_hint_layer`, :attr:`paper_guided_layer`), and is
    registered in ``MODELS``.

    Args:
        arch (str, optional): A key of :attr:`arch_settings`. Defaults to
            None (:attr:`default_arch`).
        num_pieces (int): Linear pieces per maxout unit, in every layer.
            Defaults to 2.
        out_indices (int | Sequence[int]): Indices into ``layers`` whose
            outputs are returned. Defaults to -1 (the last layer).
        flatten_output (bool, optional): Flatten the returned features to
            (N, D). Defaults to None (:attr:`default_flatten_output`).
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    #: ``arch`` -> ``dict(stages=..., fc_channels=...)``.
    arch_settings: Dict[str, dict] = {}
    #: The ``arch`` used when none is given.
    default_arch: str = ''
    #: The input image shape (C, H, W).
    image_shape: Tuple[int, int, int] = (3, 32, 32)
    #: Whether ``forward`` flattens its outputs when not told.
    default_flatten_output: bool = False
    #: ``arch`` -> module path of the paper's hint layer (teachers).
    paper_hint_layer: Dict[str, str] = {}
    #: ``arch`` -> module path of the paper's guided layer (students).
    paper_guided_layer: Dict[str, str] = {}

    def __init__(self,
                 arch: Optional[str] = None,
                 num_pieces: int = 2,
                 out_indices: Union[int, Sequence[int]] = -1,
                 flatten_output: Optional[bool] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        arch = self.default_arch if arch is None else arch
        if arch not in self.arch_settings:
            raise ValueError(f'`arch` must be one of '
                             f'{list(self.arch_settings)}, but got {arch!r}.')
        if flatten_output is None:
            flatten_output = self.default_flatten_output
        super().__init__(
            in_channels=self.image_shape[0],
            input_size=self.image_shape[1:],
            num_pieces=num_pieces,
            out_indices=out_indices,
            flatten_output=flatten_output,
            init_cfg=init_cfg,
            **copy.deepcopy(self.arch_settings[arch]))
        self.arch = arch

"""The FitNets paper's CIFAR-10 networks: the maxout teacher and FitNet 1-4.

Also :class:`MaxoutConvNet`, the generic stack of maxout layers they (and the
MNIST networks) are built from.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import nn

from .maxout import MaxoutConv2d, MaxoutLinear

__all__ = ['MaxoutConvNet', 'FitNetCIFAR']

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


@MODELS.register_module()
class FitNetCIFAR(MaxoutConvNet):
    """The CIFAR-10 networks of FitNets (Romero et al., ICLR 2015).

    ``arch`` picks one of these (conv maxout units per stage; params and
    multiplications measured with 2 pieces and the 500->10 softmax of a
    ``LinearClsHead``, paper Table 5 in brackets):

    * ``'teacher'``: 96 | 192 | 192 (8x8, 8x8, 5x5 kernels);
      9.05M [9M] params, 725M [725M] mult.
    * ``'fitnet1'``: 16-16-16 | 32-32-32 | 48-48-64;
      251K [250K] params, 30.2M [30M] mult; 11 layers with the softmax.
    * ``'fitnet2'``: 16-32-32 | 48-64-80 | 96-96-128;
      864K [862K] params, 108M [108M] mult; 11 layers.
    * ``'fitnet3'``: 32-48-64-64-80 | 80-80-80 | 128-128-128;
      1.51M [1.6M] params, 395M [392M] mult; 13 layers.
    * ``'fitnet4'``: 32-32-32-48-48 | 80 x6 | 128 x6;
      2.55M [2.5M] params, 382M [382M] mult; 19 layers.

    All are followed by a fully-connected maxout layer of 500 units
    (``layers.<last>``), whose output (N, 500) feeds the classifier head:
    use ``neck=None`` and ``LinearClsHead(in_channels=500)``.

    * Teacher: Goodfellow et al.'s maxout network as in pylearn2's
      ``maxout/cifar10.yaml``: conv 8x8 pad 4, pool 4/2; conv 8x8 pad 3,
      pool 4/2; conv 5x5 pad 3, pool 2/2 (maps 33->16, 15->7, 9->5).
    * FitNets (Appendix A): 3x3 convs, padding 1; pool 2/2 after stages 1
      and 2 and 8/1 (to 1x1) after stage 3.

    Hint and guided layers (paths in the backbone; prefix ``backbone.`` in
    a classifier) are in :attr:`paper_hint_layer` (teacher: its 2nd conv
    layer, 192x7x7) and :attr:`paper_guided_layer` (FitNets: the last layer
    of the middle stage, pooled to Nx8x8, as the authors' FitNet 4 config,
    ``hints: [[10, 1]]``).

    Note:
        Choices where the paper is ambiguous:

        * Every maxout layer has 2 pieces, the fully-connected one too
          (the authors' FitNet 4 config has 5 there): with 2, the counts of
          the teacher and FitNet 1, 2, 4 match Table 5 to within 2%.
        * FitNet 3 pools after its 5th conv layer (32-48-64-64-80 |
          80-80-80 | 128-128-128). Pooling after the 4th (widths 32-48-64-64
          | 80 x4 | 128 x3, as the layout is often transcribed) gives 324M
          multiplications, 17% below Table 5's 392M; pooling after the 5th
          gives 395M.
        * Pooling covers every input (:func:`paper_max_pool`), as pylearn2;
          it changes the teacher's maps only.
        * Dropout, max-norm constraints and pylearn2's init are training
          choices, left to the config.

    Args:
        arch (str): One of ``'teacher'``, ``'fitnet1'``, ``'fitnet2'``,
            ``'fitnet3'``, ``'fitnet4'``. Defaults to ``'fitnet4'``.
        num_pieces (int): Linear pieces per maxout unit, in every layer.
            Defaults to 2.
        out_indices (int | Sequence[int]): Indices into ``layers`` whose
            outputs are returned. Defaults to -1 (the 500-unit layer).
        flatten_output (bool): Flatten the returned features to (N, D).
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    arch_settings: Dict[str, dict] = {
        'teacher':
        dict(
            stages=[
                dict(channels=[96], kernel_size=8, padding=4, pool_size=4,
                     pool_stride=2),
                dict(channels=[192], kernel_size=8, padding=3, pool_size=4,
                     pool_stride=2),
                dict(channels=[192], kernel_size=5, padding=3, pool_size=2,
                     pool_stride=2),
            ],
            fc_channels=500),
        'fitnet1':
        dict(
            stages=[
                dict(channels=[16, 16, 16]),
                dict(channels=[32, 32, 32]),
                dict(channels=[48, 48, 64], pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
        'fitnet2':
        dict(
            stages=[
                dict(channels=[16, 32, 32]),
                dict(channels=[48, 64, 80]),
                dict(channels=[96, 96, 128], pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
        'fitnet3':
        dict(
            stages=[
                dict(channels=[32, 48, 64, 64, 80]),
                dict(channels=[80, 80, 80]),
                dict(channels=[128, 128, 128], pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
        'fitnet4':
        dict(
            stages=[
                dict(channels=[32, 32, 32, 48, 48]),
                dict(channels=[80] * 6),
                dict(channels=[128] * 6, pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
    }

    #: The teacher's hint layer: the output of its 2nd conv layer.
    paper_hint_layer: Dict[str, str] = {'teacher': 'layers.1'}

    #: Each FitNet's guided layer: the last layer of its middle stage.
    paper_guided_layer: Dict[str, str] = {
        'fitnet1': 'layers.5',
        'fitnet2': 'layers.5',
        'fitnet3': 'layers.7',
        'fitnet4': 'layers.10',
    }

    def __init__(self,
                 arch: str = 'fitnet4',
                 num_pieces: int = 2,
                 out_indices: Union[int, Sequence[int]] = -1,
                 flatten_output: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if arch not in self.arch_settings:
            raise ValueError(f'`arch` must be one of '
                             f'{list(self.arch_settings)}, but got {arch!r}.')
        super().__init__(
            in_channels=3,
            input_size=32,
            num_pieces=num_pieces,
            out_indices=out_indices,
            flatten_output=flatten_output,
            init_cfg=init_cfg,
            **copy.deepcopy(self.arch_settings[arch]))
        self.arch = arch

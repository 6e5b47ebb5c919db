"""The FitNets regressor r: maps the guided layer's output to the hint's shape.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import build_activation_layer
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS
from torch import nn

from ..backbones.maxout import Maxout

__all__ = ['HintRegressor', 'plan_spatial']

Size = Union[int, Sequence[int]]

_OPTIONS = ("options: equal sizes use a same-padded conv of `kernel_size`; "
            "a larger guided map uses the paper's kernel N_g - k + 1 = N_h, "
            "or a stride-f conv when it is exactly f times larger "
            "(`spatial='auto'`, or `spatial='rule'` to always use the "
            "kernel rule); a guided map exactly f times smaller uses a "
            "stride-f transposed conv; vectors (N, C) use a linear layer")


def _pair(size: Optional[Size], name: str) -> Optional[Tuple[int, int]]:
    if size is None:
        return None
    if isinstance(size, int):
        return (size, size)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise ValueError(f'`{name}` must be an int or (height, width), '
                         f'but got {size}.')
    return size  # type: ignore


def plan_spatial(in_size: Tuple[int, int], out_size: Tuple[int, int],
                 kernel_size: int = 3,
                 spatial: str = 'auto') -> Dict[str, object]:
    """Choose the layer mapping a guided map of ``in_size`` to ``out_size``.

    Per axis, with guided size ``g`` and hint size ``h``:

    * ``g == h``: kernel ``kernel_size``, stride 1, same padding;
    * ``g > h``: with ``spatial='auto'`` and ``g`` a whole multiple ``f`` of
      ``h``, kernel ``f`` and stride ``f`` (a strided conv; the paper's rule
      would give a kernel of nearly the whole map); otherwise the paper's
      rule, kernel ``g - h + 1``, stride 1, no padding;
    * ``g < h`` with ``h`` a whole multiple ``f`` of ``g``: a transposed
      conv with kernel ``f`` and stride ``f``.

    Args:
        in_size (tuple[int, int]): Guided map size (H, W).
        out_size (tuple[int, int]): Hint map size (H, W).
        kernel_size (int): Kernel for axes of equal size (odd).
            Defaults to 3.
        spatial (str): ``'auto'`` or ``'rule'``. Defaults to ``'auto'``.

    Returns:
        dict: ``transposed`` (bool), ``kernel_size``, ``stride`` and
        ``padding`` (each a (H, W) tuple).

    Raises:
        ValueError: The sizes cannot be mapped; the message prints both
            sizes and the options.
    """
    if spatial not in ('auto', 'rule'):
        raise ValueError(
            f"`spatial` must be 'auto' or 'rule', but got {spatial!r}.")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError('`kernel_size` must be a positive odd number for '
                         f'same padding, but got {kernel_size}.')
    kernels: List[int] = []
    strides: List[int] = []
    pads: List[int] = []
    kinds: List[str] = []
    for g, h in zip(in_size, out_size):
        if g == h:
            kinds.append('same')
            kernels.append(kernel_size)
            strides.append(1)
            pads.append(kernel_size // 2)
        elif g > h:
            if spatial == 'auto' and g % h == 0:
                kinds.append('down')
                kernels.append(g // h)
                strides.append(g // h)
            else:
                kinds.append('rule')
                kernels.append(g - h + 1)
                strides.append(1)
            pads.append(0)
        elif h % g == 0:
            kinds.append('up')
            kernels.append(h // g)
            strides.append(h // g)
            pads.append(0)
        else:
            raise ValueError(
                f'Cannot map a guided map of size {tuple(in_size)} to a '
                f'hint map of size {tuple(out_size)}: a smaller guided axis '
                f'({g} < {h}) must divide the hint axis; {_OPTIONS}.')
    transposed = 'up' in kinds
    if transposed:
        if any(k not in ('up', 'same') for k in kinds):
            raise ValueError(
                f'Cannot map a guided map of size {tuple(in_size)} to a hint '
                f'map of size {tuple(out_size)}: one axis must grow while '
                f'the other shrinks; {_OPTIONS}.')
        # A transposed conv cannot same-pad; equal axes take kernel 1.
        kernels = [k if kind == 'up' else 1 for k, kind in zip(kernels, kinds)]
        pads = [0, 0]
    return dict(
        transposed=transposed,
        kernel_size=tuple(kernels),
        stride=tuple(strides),
        padding=tuple(pads))


@MODELS.register_module()
class HintRegressor(BaseConnector):
    """The regressor r of FitNets (Romero et al., 2015, Sec. 2.2).

    Maps the student's guided-layer output ``v_g(x)`` to the shape of the
    teacher's hint-layer output ``u_h(x)``, then applies the hint layer's
    non-linearity, so that ``r(v_g(x))`` and ``u_h(x)`` are comparable.

    For a maxout hint layer (``num_pieces > 1``) the regressor is a maxout
    layer with the same number of pieces, as the authors build it: the conv
    (or linear layer) produces ``out_channels * num_pieces`` channels and
    the maximum over each unit's pieces gives ``out_channels``.

    For feature maps (N, C, H, W) it is a convolution chosen by
    :func:`plan_spatial` (the paper's kernel rule ``N_g - k + 1 = N_h`` when
    the guided map is larger, a same-padded conv for equal sizes, a strided or
    transposed conv for whole factors). For vectors (N, C) it is a linear
    layer.

    Note:
        Inside :class:`FitNetsDistill` the channels and sizes are measured by
        a probe forward, so configs name layers only. Used as a connector in
        a plain ``ConfigurableDistiller``, give ``in_channels`` and
        ``out_channels`` (and the sizes when they differ).

    Args:
        in_channels (int): Channels (or features) of the guided output.
        out_channels (int): Channels (or features) of the hint output.
        in_size (int | tuple[int, int], optional): Spatial size of the guided
            map; None for vectors or for maps of equal size.
            Defaults to None.
        out_size (int | tuple[int, int], optional): Spatial size of the hint
            map. Defaults to ``in_size``.
        kernel_size (int): Kernel of the same-padded conv for equal sizes;
            1 gives a 1x1 conv. Defaults to 3.
        spatial (str): ``'auto'`` (strided/transposed conv for whole factors,
            the kernel rule otherwise) or ``'rule'`` (always the kernel rule
            for a larger guided map). Defaults to ``'auto'``.
        act_cfg (dict, optional): The hint layer's non-linearity; None for
            none. Defaults to ``dict(type='ReLU')``.
        num_pieces (int): Maxout pieces per output unit; 1 for no maxout.
            Give the hint layer's pieces (and ``act_cfg=None``) for a maxout
            hint layer. Defaults to 1.
        bias (bool): Whether the layer has a bias. Defaults to True.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 in_size: Optional[Size] = None,
                 out_size: Optional[Size] = None,
                 kernel_size: int = 3,
                 spatial: str = 'auto',
                 act_cfg: Optional[Dict] = dict(type='ReLU'),
                 num_pieces: int = 1,
                 bias: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(num_pieces, bool) or not isinstance(num_pieces, int) \
                or num_pieces < 1:
            raise ValueError('`num_pieces` must be a positive int, but got '
                             f'{num_pieces!r}.')
        self.num_pieces = num_pieces
        for name, value in (('in_channels', in_channels),
                            ('out_channels', out_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f'`{name}` must be a positive int, but got {value!r}.')
        self.in_channels = in_channels
        self.out_channels = out_channels
        in_hw = _pair(in_size, 'in_size')
        out_hw = _pair(out_size, 'out_size') or in_hw
        if in_hw is None and out_hw is not None:
            in_hw = out_hw
        self.in_size, self.out_size = in_hw, out_hw
        self.plan: Optional[Dict[str, object]] = None
        if in_hw is None:
            self.layer: nn.Module = nn.Linear(in_channels,
                                              out_channels * num_pieces, bias)
        else:
            self.plan = plan_spatial(in_hw, out_hw, kernel_size, spatial)
            conv = nn.ConvTranspose2d if self.plan['transposed'] else \
                nn.Conv2d
            self.layer = conv(
                in_channels,
                out_channels * num_pieces,
                kernel_size=self.plan['kernel_size'],
                stride=self.plan['stride'],
                padding=self.plan['padding'],
                bias=bias)
        self.maxout = Maxout(num_pieces) if num_pieces > 1 else \
            nn.Identity()
        self.act = build_activation_layer(act_cfg) if act_cfg else \
            nn.Identity()

    @classmethod
    def from_shapes(cls, guided_shape: Sequence[int],
                    hint_shape: Sequence[int], **kwargs) -> 'HintRegressor':
        """Build from the shapes of a guided and a hint output.

        Args:
            guided_shape (Sequence[int]): (N, C, H, W) or (N, C).
            hint_shape (Sequence[int]): (N, C, H, W) or (N, C).
            **kwargs: Other arguments of :class:`HintRegressor`. Explicit
                ``in_channels``/``out_channels``/``in_size``/``out_size`` must
                agree with the shapes.

        Raises:
            ValueError: The shapes cannot be mapped or disagree with the
                explicit values.
        """
        guided, hint = tuple(guided_shape), tuple(hint_shape)
        if len(guided) != len(hint) or len(guided) not in (2, 4):
            raise ValueError(
                f'Cannot map a guided output of shape {guided} to a hint of '
                f'shape {hint}: both must be maps (N, C, H, W) or both '
                f'vectors (N, C); {_OPTIONS}.')
        measured = dict(in_channels=guided[1], out_channels=hint[1])
        if len(guided) == 4:
            measured.update(in_size=guided[2:], out_size=hint[2:])
        for key, value in measured.items():
            given = kwargs.get(key)
            if given is not None:
                agrees = _pair(given, key) == _pair(value, key) \
                    if key.endswith('size') else given == value
                if not agrees:
                    raise ValueError(
                        f'HintRegressor `{key}={given}` disagrees with the '
                        f'probe forward, which measured {value} (guided '
                        f'shape {guided}, hint shape {hint}).')
            kwargs[key] = tuple(value) if key.endswith('size') else value
        kwargs.pop('type', None)
        return cls(**kwargs)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Regress the guided output ``feature`` to the hint's shape."""
        if self.plan is None and feature.dim() != 2:
            raise ValueError(
                f'This HintRegressor was built for vectors (N, '
                f'{self.in_channels}) because no `in_size` was given, but got '
                f'a feature of shape {tuple(feature.shape)}; give `in_size` '
                '(and `out_size` if it differs) for feature maps.')
        return self.act(self.maxout(self.layer(feature)))

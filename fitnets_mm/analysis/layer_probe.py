"""Output shapes and depths of a network's modules, by one probe forward.

FitNets configs name the hint (teacher) and guided (student) layers by module
path, and the paper takes both from the middle of their networks. The shapes
are found by looking, as the algorithm itself does: one probe forward per
network on zeros of the input shape, with a forward hook on every submodule.
Depth is measured in the network's own terms: the share of its conv and
linear layers that have run when a module's output is ready.
"""
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModel
from torch import nn
from torch.nn.modules.conv import _ConvNd

__all__ = ['DEFAULT_MIDDLE_BAND', 'LayerInfo', 'probe_layers']

#: Relative depths (share of conv/linear layers run) that count as "middle".
DEFAULT_MIDDLE_BAND: Tuple[float, float] = (1 / 3, 2 / 3)

_WEIGHT_LAYERS = (_ConvNd, nn.Linear)


@dataclass
class LayerInfo:
    """What the probe forward saw of one submodule.

    Args:
        path (str): Dotted module path, e.g. ``'backbone.layer2'``.
        type_name (str): The module's class name.
        shape (tuple, optional): Output shape when the (first) output is one
            tensor, else None.
        shape_text (str): The output shape as printed (tuples of tensors are
            listed, other outputs named by type).
        calls (int): How many times the forward called the module.
        depth (int): Nesting level among the modules the forward calls: 1
            plus the number of called ancestors, so ``backbone.layer2`` is 2,
            ``backbone.layer2.0`` 3, and the blocks of an (uncalled)
            ``nn.ModuleList`` in ``backbone.layers.5`` are 2.
        position (float): Share of the network's conv/linear layers that had
            run when the module first returned, in [0, 1].
        num_params (int): Parameters of the module and its children.
        middle (bool): Whether the module is a middle candidate. Defaults to
            False.
    """
    path: str
    type_name: str
    shape: Optional[Tuple[int, ...]]
    shape_text: str
    calls: int
    depth: int
    position: float
    num_params: int
    middle: bool = False



def _shape_text(output: Any) -> Tuple[Optional[Tuple[int, ...]], str]:
    """Shape (for one tensor) and printed form of a module output."""
    if isinstance(output, torch.Tensor):
        shape = tuple(output.shape)
        return shape, str(shape)
    if isinstance(output, (tuple, list)) and output and all(
            isinstance(o, torch.Tensor) for o in output):
        return None, '[' + ', '.join(str(tuple(o.shape))
                                     for o in output) + ']'
    return None, type(output).__name__


def _ancestors(path: str) -> List[str]:
    """``'a.b.c'`` -> ``['a', 'a.b']``."""
    parts = path.split('.')
    return ['.'.join(parts[:i]) for i in range(1, len(parts))]


def _forward(model: nn.Module, x: torch.Tensor) -> Any:
    """Run ``model`` as the algorithm does: tensor mode for a BaseModel."""
    if isinstance(model, BaseModel):
        return model(x, mode='tensor')
    return model(x)


@torch.no_grad()
def probe_layers(
    model: nn.Module,
    input_shape: Sequence[int],
    middle_band: Tuple[float, float] = DEFAULT_MIDDLE_BAND
) -> List[LayerInfo]:
    """One probe forward with a hook on every submodule.

    The model runs in eval mode on zeros of shape ``(1, *input_shape)``; the
    train/eval mode of every submodule is restored after.

    Args:
        model (nn.Module): The network (an mmpretrain model runs in
            ``mode='tensor'``, without its data preprocessor).
        input_shape (Sequence[int]): Shape of one input, e.g. (3, 32, 32).
        middle_band (tuple[float, float]): Relative depths marked as middle.
            Defaults to :data:`DEFAULT_MIDDLE_BAND`.

    Returns:
        list[LayerInfo]: The modules the forward called, in module order.

    Raises:
        ValueError: ``input_shape`` or ``middle_band`` is malformed.
        RuntimeError: The forward failed on the probe input.
    """
    shape = tuple(input_shape)
    if not shape or any(not isinstance(s, int) or isinstance(s, bool)
                        or s < 1 for s in shape):
        raise ValueError('`input_shape` must be the positive sizes of one '
                         f'input, e.g. (3, 32, 32), but got {input_shape!r}.')
    lo, hi = middle_band
    if not 0 <= lo <= hi <= 1:
        raise ValueError('`middle_band` must be (low, high) with '
                         f'0 <= low <= high <= 1, but got {middle_band!r}.')
    done = [0]
    first: Dict[str, Tuple[Any, int]] = {}
    calls: Dict[str, int] = {}

    def make_hook(path: str):

        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if isinstance(module, _WEIGHT_LAYERS):
                done[0] += 1
            calls[path] = calls.get(path, 0) + 1
            if path not in first:
                first[path] = (output, done[0])

        return hook

    named = [(p, m) for p, m in model.named_modules() if p]
    handles = [m.register_forward_hook(make_hook(p)) for p, m in named]
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        _forward(model, torch.zeros((1, ) + shape))
    except RuntimeError as err:
        raise RuntimeError(
            f'The probe forward of {type(model).__name__} on input shape '
            f'{(1, ) + shape} failed: {err}. Give the shape of one input.'
        ) from err
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training
    total = max(done[0], 1)
    layers = []
    for path, module in named:
        if path not in first:
            continue
        output, count = first[path]
        out_shape, text = _shape_text(output)
        position = count / total
        layers.append(
            LayerInfo(
                path=path,
                type_name=type(module).__name__,
                shape=out_shape,
                shape_text=text,
                calls=calls[path],
                depth=1 + sum(prefix in first
                              for prefix in _ancestors(path)),
                position=position,
                num_params=sum(p.numel() for p in module.parameters()),
                middle=out_shape is not None and done[0] > 0
                and lo <= position <= hi))
    return layers


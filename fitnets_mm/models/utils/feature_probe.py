"""Learn the outputs of named layers by one forward on a dummy input."""
from typing import Dict, Sequence

import torch
from torch import nn

from .feature_recorder import FeatureRecorder

__all__ = ['probe_features']


@torch.no_grad()
def probe_features(model: nn.Module, paths: Sequence[str],
                   input_shape: Sequence[int],
                   role: str = 'layer') -> Dict[str, torch.Tensor]:
    """Run ``model`` once on zeros of ``(1, *input_shape)`` in eval mode and
    return the outputs of ``paths``.

    Args:
        model (nn.Module): A model whose ``forward(x, mode='tensor')`` runs
            the named layers (an MMPretrain classifier).
        paths (Sequence[str]): Dotted module paths to record.
        input_shape (Sequence[int]): Shape of one input (C, H, W).
        role (str): What the paths name, for error messages.
            Defaults to ``'layer'``.

    Returns:
        dict[str, torch.Tensor]: The output of each path for the one input.

    Raises:
        RuntimeError: The forward failed on that input shape.
    """
    shape = (1, ) + tuple(int(s) for s in input_shape)
    was_training = model.training
    model.eval()
    recorder = FeatureRecorder(model, paths, stop=True, role=role)
    try:
        return recorder.run(lambda: model(torch.zeros(shape), mode='tensor'))
    except RuntimeError as err:
        raise RuntimeError(
            f'Probe forward of the {role}s {list(paths)} on input shape '
            f'{shape} failed: {err}. Set `input_shape` to the shape of one '
            'training input.') from err
    finally:
        model.train(was_training)

"""Learn the outputs of named layers by one forward on a dummy input."""
from typing import Any, Dict, Sequence, Tuple

import torch
from torch import nn

from .feature_recorder import FeatureRecorder

__all__ = ['probe_features']


@torch.no_grad()
def probe_features(model: nn.Module, paths: Sequence[str],
                   input_shape: Sequence[int],
                   role: str = 'layer',
                   whole: bool = False) -> Tuple[Dict[str, Any], Any]:
    """Run ``model`` once on zeros of ``(1, *input_shape)`` in eval mode and
    return the outputs of ``paths``.

    Args:
        model (nn.Module): A model whose ``forward(x, mode='tensor')`` runs
            the named layers (an MMPretrain classifier).
        paths (Sequence[str]): Dotted module paths to record.
        input_shape (Sequence[int]): Shape of one input (C, H, W).
        role (str): What the paths name, for error messages.
            Defaults to ``'layer'``.
        whole (bool): Run the whole forward and return its output too;
            otherwise the forward stops after the last of ``paths``.
            Defaults to False.

    Returns:
        tuple[dict[str, Any], Any]: The output of each path for the one
        input, and the model's output (None unless ``whole``).

    Raises:
        RuntimeError: The forward failed on that input shape, or did not
            run one of ``paths``.
    """
    shape = (1, ) + tuple(int(s) for s in input_shape)
    was_training = model.training
    model.eval()
    recorder = FeatureRecorder(model, paths, stop=not whole, role=role)
    output = []

    def forward() -> None:
        try:
            output.append(model(torch.zeros(shape), mode='tensor'))
        except RuntimeError as err:  # e.g. a shape mismatch
            raise RuntimeError(
                f'Probe forward of the {role}s {list(paths)} on input shape '
                f'{shape} failed: {err}. Set `input_shape` to the shape of '
                'one training input.') from err

    try:
        # A layer the forward never calls: the recorder's own error says
        # so; the input shape is not the cause.
        feats = recorder.run(forward)
    finally:
        model.train(was_training)
        recorder.remove()
    return feats, output[0] if output else None

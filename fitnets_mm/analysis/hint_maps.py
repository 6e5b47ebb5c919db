"""Teacher hint maps next to the student's regressed maps, for given images.

After stage 1 of FitNets the student's guided layer, passed through the
regressor, should reproduce the teacher's hint layer. :func:`compute_hint_maps`
records both for a batch (one truncated forward per network through
:class:`FeatureRecorder`) and measures, per image, the cosine similarity of
the flattened maps; :func:`load_images` reads image files the way the config's
data preprocessor expects them. ``tools/analysis/visualize_hints.py`` plots
the result with :func:`plot_hint_figure`.
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from ..models.utils import FeatureRecorder, tensor_shape
from .hint_pairs import config_pairs

__all__ = [
    'HintMaps', 'channel_mean', 'compute_hint_maps', 'load_images',
    'preprocess_images', 'value_range', 'wants_bgr'
]


@dataclass
class HintMaps:
    """The hint and regressed outputs of one pair for a batch of images.

    Args:
        student (str): The guided layer's path.
        teacher (str): The hint layer's path.
        hint (torch.Tensor): Teacher hint outputs, (N, C, H, W) or (N, C).
        regressed (torch.Tensor): The regressor applied to the student's
            guided outputs, of the same shape as ``hint``.
        cosine (torch.Tensor): Per-image cosine similarity of the flattened
            ``hint`` and ``regressed``, shape (N, ).
    """
    student: str
    teacher: str
    hint: torch.Tensor
    regressed: torch.Tensor
    cosine: torch.Tensor

    @property
    def difference(self) -> torch.Tensor:
        """``|hint - regressed|`` element-wise."""
        return (self.hint - self.regressed).abs()


def load_images(paths: Sequence[str], input_shape: Sequence[int],
                bgr: bool = False) -> List[np.ndarray]:
    """Read image files and resize them to the network's input size.

    Args:
        paths (Sequence[str]): Image files (anything PIL reads).
        input_shape (Sequence[int]): (C, H, W) of one input; C = 1 reads
            grey-scale, C = 3 colour.
        bgr (bool): Return colour images in BGR order, as
            ``LoadImageFromFile`` gives them (for a data preprocessor with
            ``to_rgb=True``); otherwise RGB, as MMPretrain's CIFAR and MNIST
            datasets hold their images. Defaults to False.

    Returns:
        list[np.ndarray]: uint8 arrays of shape (H, W, C).
    """
    channels, height, width = (int(s) for s in input_shape)
    if channels not in (1, 3):
        raise ValueError('Images can be read for 1 or 3 input channels, but '
                         f'the input shape is {tuple(input_shape)}.')
    images = []
    for path in paths:
        with Image.open(path) as img:
            img = img.convert('L' if channels == 1 else 'RGB')
            img = img.resize((width, height), Image.BILINEAR)
            array = np.asarray(img, dtype=np.uint8).reshape(
                height, width, channels)
        images.append(array[..., ::-1].copy() if bgr and channels == 3
                      else array)
    return images


def preprocess_images(algorithm: nn.Module,
                      images: Sequence[np.ndarray]) -> torch.Tensor:
    """Pack images and run them through the algorithm's data preprocessor.

    Args:
        algorithm (nn.Module): The distiller (its ``data_preprocessor``).
        images (Sequence[np.ndarray]): (H, W, C) uint8 images of one size.

    Returns:
        torch.Tensor: The normalised batch, (N, C, H, W).
    """
    inputs = [torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
              for img in images]
    data = algorithm.data_preprocessor(dict(inputs=inputs), False)
    return data['inputs']


def wants_bgr(algorithm: nn.Module) -> bool:
    """Whether the data preprocessor converts BGR input to RGB.

    True for MMPretrain's ``ClsDataPreprocessor(to_rgb=True)`` and mmengine's
    ``ImgDataPreprocessor(bgr_to_rgb=True)``.
    """
    preprocessor = algorithm.data_preprocessor
    return bool(
        getattr(preprocessor, 'to_rgb', False)
        or getattr(preprocessor, '_channel_conversion', False))


@torch.no_grad()
def compute_hint_maps(algorithm: nn.Module,
                      inputs: torch.Tensor,
                      pair_index: int = 0) -> HintMaps:
    """Record one pair's hint and regressed outputs for a batch.

    Both networks run in eval mode (their modes are restored after) and stop
    at the pair's layers.

    Args:
        algorithm (nn.Module): A :class:`FitNetsDistill` (``student``,
            ``teacher``, ``hint_pairs`` and ``regressors``), or an MMRazor
            distiller whose losses compare a student connector's output
            with a teacher module's (see :func:`config_pairs`).
        inputs (torch.Tensor): A preprocessed batch, (N, C, H, W).
        pair_index (int): Which of :func:`config_pairs`: the FitNets hints
            in their order, then the connector pairs. Defaults to 0.

    Returns:
        HintMaps: The maps and the per-image cosine similarity.

    Raises:
        ValueError: The algorithm has no such hint pair.
    """
    pairs = config_pairs(algorithm)
    if not 0 <= pair_index < len(pairs):
        raise ValueError(
            f'`pair_index` must be in [0, {len(pairs) - 1}] (the model has '
            f'{len(pairs)} hint pairs), but got {pair_index}.'
            if pairs else 'The model has no hint pairs: no `hints`, and no '
            'distiller loss on a student connector and a teacher module.')
    student, teacher, regressor, _ = pairs[pair_index]
    outputs = []
    for network, path in ((algorithm.teacher, teacher),
                          (algorithm.student, student)):
        recorder = FeatureRecorder(network, [path], stop=True)
        was_training = network.training
        network.eval()
        try:
            feats = recorder.run(lambda: network(inputs, mode='tensor'))
        finally:
            network.train(was_training)
        tensor_shape(feats[path], path)
        outputs.append(feats[path])
    hint, guided = outputs
    was_training = regressor.training
    regressor.eval()
    try:
        regressed = regressor(guided)
    finally:
        regressor.train(was_training)
    cosine = F.cosine_similarity(
        hint.flatten(1).float(), regressed.flatten(1).float(), dim=1)
    return HintMaps(student, teacher, hint, regressed, cosine)


def channel_mean(maps: torch.Tensor) -> np.ndarray:
    """Mean over channels, as images to show.

    Args:
        maps (torch.Tensor): (N, C, H, W) maps, or (N, C) vectors (shown as
            a 1 x C strip each).

    Returns:
        np.ndarray: (N, H, W) float array; (N, 1, C) for vectors.
    """
    if maps.dim() == 2:
        return maps[:, None, :].float().cpu().numpy()
    if maps.dim() != 4:
        raise ValueError('Expected (N, C, H, W) maps or (N, C) vectors, but '
                         f'got shape {tuple(maps.shape)}.')
    return maps.float().mean(dim=1).cpu().numpy()


def value_range(*arrays: np.ndarray) -> Tuple[float, float]:
    """Common (min, max) of arrays, widened where they are constant."""
    lo = float(min(a.min() for a in arrays))
    hi = float(max(a.max() for a in arrays))
    return (lo, hi) if hi > lo else (lo, lo + 1e-6)

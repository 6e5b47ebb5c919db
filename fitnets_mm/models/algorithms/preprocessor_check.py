"""The algorithm's data preprocessor must normalise as the teacher's does.

MMRazor's :class:`BaseAlgorithm` preprocesses every batch once, with its own
``data_preprocessor`` or, when that is None, the student's; the teacher gets
the same tensor and its own preprocessor is never run. A student dict
written without ``data_preprocessor`` gets MMPretrain's default, which does
not normalise, so the student would train on raw pixels and the frozen
teacher, trained on normalised ones, would predict from inputs it has never
seen, with no error anywhere. :func:`check_data_preprocessors` turns that
into an error at build time.
"""
from typing import Any, Dict, Optional

import torch
from torch import nn

__all__ = ['DataPreprocessorMismatch', 'check_data_preprocessors',
           'describe_normalisation']

#: What a config must say so that the student normalises as the teacher.
HOW_TO_FIX = (
    'Give the student the dataset\'s preprocessor, '
    '`data_preprocessor={{_base_.data_preprocessor}}` in `model.architecture` '
    '(with `model.data_preprocessor=None`, the student\'s is used), or set '
    '`model.data_preprocessor=dict(type=..., mean=..., std=...)` to the '
    'teacher\'s normalisation; on the command line: --cfg-options '
    'model.data_preprocessor.mean=[...] model.data_preprocessor.std=[...]. '
    'If the teacher really expects other inputs, make its '
    '`data_preprocessor` say so.')


class DataPreprocessorMismatch(ValueError):
    """The algorithm's inputs are not normalised as the teacher expects."""


def describe_normalisation(preprocessor: Optional[nn.Module]
                           ) -> Dict[str, Any]:
    """The normalisation a data preprocessor applies.

    Args:
        preprocessor (nn.Module, optional): An mmengine / MMPretrain data
            preprocessor (``ImgDataPreprocessor``, ``ClsDataPreprocessor`` or
            a subclass), or any other module (no normalisation).

    Returns:
        dict: ``type``, ``mean`` and ``std`` (lists, or None when the
        preprocessor does not normalise) and ``channel_conversion`` (whether
        it swaps BGR and RGB).
    """
    normalises = bool(getattr(preprocessor, '_enable_normalize', False))
    mean = getattr(preprocessor, 'mean', None) if normalises else None
    std = getattr(preprocessor, 'std', None) if normalises else None
    return dict(
        type=type(preprocessor).__name__,
        mean=_as_list(mean),
        std=_as_list(std),
        channel_conversion=bool(
            getattr(preprocessor, '_channel_conversion', False)))


def _as_list(value: Any) -> Optional[list]:
    if value is None:
        return None
    return [round(float(v), 4) for v in torch.as_tensor(value).flatten()]


def _text(desc: Dict[str, Any]) -> str:
    if desc['mean'] is None:
        norm = 'no normalisation (mean/std not set)'
    else:
        norm = f'mean={desc["mean"]}, std={desc["std"]}'
    swap = ', BGR<->RGB swap' if desc['channel_conversion'] else ''
    return f'{desc["type"]} with {norm}{swap}'


def _same(a: Optional[list], b: Optional[list]) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and torch.allclose(
        torch.tensor(a), torch.tensor(b), rtol=1e-4, atol=1e-4)


def check_data_preprocessors(algorithm: nn.Module, teacher: nn.Module,
                             source: str) -> None:
    """Raise if the teacher normalises its inputs otherwise than the
    algorithm's preprocessor, which prepares the batches of both networks.

    A teacher whose own preprocessor does not normalise (e.g. a model dict
    written without one) says nothing about its training inputs; then the
    algorithm's must normalise, as every dataset config of this project
    does, or training would run on raw pixels with nothing to say so. Raw
    inputs on purpose are written as an identity normalisation
    (``mean=[0.0, ...], std=[1.0, ...]``).

    Args:
        algorithm (nn.Module): The algorithm's ``data_preprocessor``.
        teacher (nn.Module): The teacher's own ``data_preprocessor``.
        source (str): Where the algorithm's preprocessor came from, for the
            message, e.g. ``'the student's (model.architecture.
            data_preprocessor)'``.

    Raises:
        DataPreprocessorMismatch: The algorithm does not normalise, or
            normalises with another mean, std or channel order than a
            teacher that does.
    """
    ours = describe_normalisation(algorithm)
    theirs = describe_normalisation(teacher)
    if theirs['mean'] is None:
        if ours['mean'] is not None:
            return
        raise DataPreprocessorMismatch(
            f'The data preprocessor that prepares the inputs of student and '
            f'teacher, {source}, is {_text(ours)}, and so is the teacher\'s: '
            'training would run on raw pixels; expected a normalising one. '
            f'{HOW_TO_FIX} For raw inputs on purpose, set an identity '
            "normalisation: model.data_preprocessor=dict(type="
            "'mmpretrain.ClsDataPreprocessor', mean=[0.0], std=[1.0]) (one "
            'value per channel).')
    if ours['mean'] is not None and _same(ours['mean'], theirs['mean']) \
            and _same(ours['std'], theirs['std']) \
            and ours['channel_conversion'] == theirs['channel_conversion']:
        return
    problem = ('does not normalise: the student would train on raw pixels '
               'and the teacher would see inputs unlike those it was '
               'trained on' if ours['mean'] is None else
               'normalises differently')
    raise DataPreprocessorMismatch(
        f'The data preprocessor that prepares the inputs of student and '
        f'teacher, {source}, {problem}. It is {_text(ours)}; the teacher\'s '
        f'is {_text(theirs)}. {HOW_TO_FIX}')

"""Turn a FitNets (MMRazor distillation) checkpoint into a student checkpoint.

A checkpoint of :class:`FitNetsDistill` holds the student under
``architecture.*`` next to ``teacher.*``, ``regressors.*`` and the optimizer,
message hub and scheduler states of training. The student alone, with its
keys unprefixed, is a plain MMPretrain checkpoint: ``tools/test.py`` with the
student's own config, ``mmpretrain.apis.get_model(cfg, pretrained=PATH)`` and
``ImageClassificationInferencer`` load it, and the class names in
``meta['dataset_meta']`` label the predictions. It does the job of MMRazor's
``tools/model_converters/convert_kd_ckpt_to_student.py``, with a safe
(weights-only) load.
"""
import logging
import os
from typing import Any, Dict, Union

from mmengine.logging import print_log
from mmengine.runner.checkpoint import save_checkpoint

from ..fileio.safe_checkpoint import load_checkpoint_dict

__all__ = [
    'STUDENT_PREFIX', 'export_student', 'student_checkpoint',
    'unwrapped_state_dict'
]

#: Prefix of the student's keys in an MMRazor algorithm's state dict.
STUDENT_PREFIX = 'architecture.'


def unwrapped_state_dict(checkpoint: Any, name: str) -> Dict[str, Any]:
    """The state dict of a checkpoint (or the checkpoint if it is one),
    without the ``module.`` prefix of a wrapped model."""
    if isinstance(checkpoint, dict) and isinstance(
            checkpoint.get('state_dict'), dict):
        state = checkpoint['state_dict']
    elif isinstance(checkpoint, dict):
        state = checkpoint
    else:
        raise TypeError(f'{name} holds a {type(checkpoint).__name__}, '
                        'expected a checkpoint dict with a "state_dict".')
    return {k[7:] if k.startswith('module.') else k: v
            for k, v in state.items()}


def student_checkpoint(checkpoint: Any,
                       keep_meta: bool = False,
                       name: str = 'the checkpoint') -> Dict[str, Any]:
    """The student-only checkpoint of a loaded distillation checkpoint.

    Args:
        checkpoint (Any): A loaded checkpoint (``{'state_dict': ..., 'meta':
            ...}``, as mmengine saves it) or a bare state dict.
        keep_meta (bool): Keep the whole ``meta`` (epoch, iter, seed, the
            training config, ...); otherwise keep only
            ``meta['dataset_meta']``, which MMPretrain's inference API reads
            for the class names. Defaults to False.
        name (str): How to name the checkpoint in errors.
            Defaults to ``'the checkpoint'``.

    Returns:
        dict: ``{'meta': ..., 'state_dict': ...}`` with the student's keys
        unprefixed; ``teacher.*``, ``regressors.*``, ``distiller.*``, the
        algorithm's ``data_preprocessor.*`` and the optimizer, message hub
        and scheduler states are dropped.

    Raises:
        TypeError: The checkpoint is not a dict.
        ValueError: The checkpoint has no ``architecture.*`` keys.
    """
    state = unwrapped_state_dict(checkpoint, name)
    student = {
        key[len(STUDENT_PREFIX):]: value
        for key, value in state.items() if key.startswith(STUDENT_PREFIX)
    }
    if not student:
        prefixes = sorted({k.split('.', 1)[0] for k in state})
        raise ValueError(
            f'{name} has no "{STUDENT_PREFIX}*" keys, so it is not a '
            'checkpoint of an MMRazor distillation algorithm such as '
            f'FitNetsDistill; its keys start with {prefixes[:10]}.')
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    if not keep_meta:
        meta = {k: v for k, v in meta.items() if k == 'dataset_meta'}
    if 'dataset_meta' not in meta:
        print_log(
            f'{name} has no meta["dataset_meta"]: MMPretrain will name the '
            "classes after the student config's test dataset.",
            logger='current',
            level=logging.WARNING)
    return dict(meta=meta, state_dict=student)


def export_student(src: Union[str, os.PathLike],
                   dst: Union[str, os.PathLike],
                   keep_meta: bool = False) -> int:
    """Write the student of the distillation checkpoint ``src`` to ``dst``.

    ``src`` is read with :func:`fitnets_mm.compat.load_checkpoint_dict`
    (weights only, nothing in the file is executed; a file without a
    checkpoint dict is named and refused); ``dst`` is written with mmengine's
    ``save_checkpoint`` (missing folders are created). Without
    ``keep_meta`` it holds only tensors and the dataset meta (class names),
    so plain ``torch.load(dst, weights_only=True)``, and thus MMPretrain
    without fitnets_mm, loads it.

    Args:
        src (str | PathLike): The FitNets checkpoint.
        dst (str | PathLike): The student checkpoint to write; may be
            ``src``.
        keep_meta (bool): Keep the whole ``meta``; see
            :func:`student_checkpoint`. Defaults to False.

    Returns:
        int: The number of state-dict keys written.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    checkpoint = load_checkpoint_dict(src, map_location='cpu')
    student = student_checkpoint(checkpoint, keep_meta, name=src)
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    save_checkpoint(student, dst)
    return len(student['state_dict'])

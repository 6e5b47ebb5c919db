"""Publish a trained checkpoint as OpenMMLab publishes its zoo's weights.

A published checkpoint holds the model's weights and its class names only
(no optimizer, message hub or scheduler state), and its file name ends with
the date and the first 8 hex digits of its SHA-256, as MMPretrain's
``tools/model_converters/publish_model.py`` names them
(``NAME_YYYYMMDD-HASH.pth``); mmengine, torch.hub and fitnets_mm's loaders
check that hash when they load it. A distillation checkpoint is published as
its student (:func:`~.student_checkpoint.student_checkpoint`).
"""
import datetime
import hashlib
import os
import os.path as osp
from typing import Any, Dict, Optional, Union

from mmengine.runner.checkpoint import save_checkpoint

from ..fileio.safe_checkpoint import load_checkpoint_dict
from .student_checkpoint import (STUDENT_PREFIX, student_checkpoint,
                                 unwrapped_state_dict)

__all__ = ['publish_checkpoint', 'published_checkpoint']


def published_checkpoint(checkpoint: Any,
                         name: str = 'the checkpoint') -> Dict[str, Any]:
    """What a published checkpoint keeps of a loaded one.

    Args:
        checkpoint (Any): A loaded mmengine checkpoint.
        name (str): How to name it in errors. Defaults to
            ``'the checkpoint'``.

    Returns:
        dict: ``{'meta': {'dataset_meta': ...}, 'state_dict': ...}``; the
        student's weights, unprefixed, for a distillation checkpoint.

    Raises:
        TypeError: ``checkpoint`` is not an mmengine checkpoint dict.
    """
    if not isinstance(checkpoint, dict) or not isinstance(
            checkpoint.get('state_dict'), dict):
        raise TypeError(f'{name} is not an mmengine checkpoint (a dict with '
                        'a "state_dict"); got '
                        f'{type(checkpoint).__name__}')
    state = checkpoint['state_dict']
    if any(key.startswith(STUDENT_PREFIX) for key in state):
        return student_checkpoint(checkpoint, name=name)
    meta = checkpoint.get('meta') or {}
    return dict(
        meta={k: v for k, v in meta.items() if k == 'dataset_meta'},
        state_dict=unwrapped_state_dict(checkpoint, name))


def publish_checkpoint(src: Union[str, os.PathLike],
                       out_stem: Union[str, os.PathLike],
                       date: Optional[str] = None) -> str:
    """Write ``src`` as a published checkpoint ``OUT_STEM_DATE-HASH.pth``.

    Args:
        src (str | PathLike): A checkpoint of ``tools/train.py`` (read
            weights-only).
        out_stem (str | PathLike): The output path without date, hash and
            ``.pth``, e.g. ``zoo/mnist/maxout-teacher_mnist``.
        date (str, optional): ``YYYYMMDD``. Defaults to today.

    Returns:
        str: The path written.
    """
    src, out_stem = os.fspath(src), os.fspath(out_stem)
    if out_stem.endswith('.pth'):
        out_stem = out_stem[:-4]
    published = published_checkpoint(
        load_checkpoint_dict(src, map_location='cpu'), name=src)
    date = date or datetime.date.today().strftime('%Y%m%d')
    os.makedirs(osp.dirname(osp.abspath(out_stem)), exist_ok=True)
    tmp = f'{out_stem}.publishing.tmp'
    try:
        save_checkpoint(published, tmp)
        with open(tmp, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        out = f'{out_stem}_{date}-{sha[:8]}.pth'
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return out

"""The teacher of a distiller: built from a ``fitnets_mm::`` config, loaded
from ``teacher_ckpt``."""
import re
from typing import Any, Dict, Optional

from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
from mmrazor.registry import MODELS
from torch import nn

from ...fileio.downloads import DownloadError
from ...fileio.safe_checkpoint import CorruptCheckpointError
from ...compat.config_scope import SCOPE

__all__ = ['REVISE_KEYS', 'build_scoped_teacher', 'load_teacher_checkpoint',
           'teacher_mismatch']

#: mmengine's default: a checkpoint saved from a DDP-wrapped teacher loads.
REVISE_KEYS = [(r'^module\.', '')]


def build_scoped_teacher(teacher: Any) -> Any:
    """Build a teacher given as ``dict(cfg_path='fitnets_mm::...')``.

    mmengine's ``get_model`` (which MMRazor calls for a ``cfg_path``) builds
    in the scope named by the prefix and imports ``<scope>.utils``; neither
    exists for ``fitnets_mm``, whose models live in MMPretrain's and
    MMRazor's registries. Here the config is read as ``get_model`` reads it
    and its model built in the config's own ``default_scope``.

    Args:
        teacher (Any): The ``teacher`` argument of a distiller.

    Returns:
        Any: The built teacher for a ``fitnets_mm::`` ``cfg_path``, else
        ``teacher`` unchanged (MMRazor builds it).
    """
    if not isinstance(teacher, dict) or teacher.get('type') or not str(
            teacher.get('cfg_path', '')).startswith(f'{SCOPE}::'):
        return teacher
    from mmengine.hub import get_config
    cfg = dict(teacher)
    cfg_path, pretrained = cfg.pop('cfg_path'), cfg.pop('pretrained', False)
    config = get_config(cfg_path, pretrained)
    if 'data_preprocessor' in config:
        config.model.data_preprocessor = config.data_preprocessor
    with DefaultScope.overwrite_default_scope(
            config.get('default_scope', 'mmrazor')):
        model = MODELS.build(config.model, default_args=cfg or None)
    if pretrained:
        load_teacher_checkpoint(model, config.model_path)
    return model


def load_teacher_checkpoint(teacher: nn.Module, filename: str) -> None:
    """Load ``teacher_ckpt`` with mmengine's strict ``load_checkpoint``.

    mmengine strips a ``module.`` prefix (``revise_keys``), reads
    ``state_dict`` out of a runner checkpoint and refuses any missing,
    unexpected or misshapen key; its error is replaced by one that lists
    them (see :func:`teacher_mismatch`). The loaded weights are kept
    through ``init_weights``.

    Note:
        mmengine raises on a mismatch on rank 0 only (other ranks get a
        partly loaded teacher, and end with the launcher when rank 0 fails),
        and it does not count a missing BN ``num_batches_tracked`` as a
        mismatch.

    Args:
        teacher (nn.Module): The teacher.
        filename (str): Checkpoint path or URL.

    Raises:
        FileNotFoundError: No such file.
        KeyError: The checkpoint's keys or shapes do not fit the teacher.
    """
    try:
        load_checkpoint(teacher, filename, map_location='cpu',
                        strict=True, revise_keys=REVISE_KEYS)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'teacher_ckpt {filename!r} does not exist; expected a '
            'checkpoint path or URL of the teacher.') from None
    except DownloadError as err:
        raise DownloadError(
            f'teacher_ckpt: {err}, or use a local copy: --cfg-options '
            'model.teacher_ckpt=PATH') from None
    except CorruptCheckpointError:
        raise  # names the file and what is wrong with it
    except (RuntimeError, AttributeError):
        # mmengine's strict mismatch, or a state dict that is no dict.
        report = teacher_mismatch(teacher, filename)
        if report is None:
            raise
        raise report from None
    teacher._is_init = True


def teacher_mismatch(teacher: nn.Module,
                     filename: str) -> Optional[Exception]:
    """Why ``filename`` does not fit ``teacher``, or None if it does.

    Args:
        teacher (nn.Module): The teacher.
        filename (str): Checkpoint path or URL.

    Returns:
        Exception | None: The missing, unexpected and misshapen keys after
        mmengine's key revision, by mmengine's rules.
    """
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state, dict):
        return TypeError(f'teacher_ckpt {filename!r} holds a '
                         f'{type(state).__name__}, expected a state dict.')
    for pattern, replacement in REVISE_KEYS:
        state = {re.sub(pattern, replacement, k): v for k, v in state.items()}
    own: Dict[str, Any] = teacher.state_dict()
    missing = sorted(k for k in set(own) - set(state)
                     if 'num_batches_tracked' not in k)
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state)
                   if tuple(own[k].shape) != tuple(state[k].shape))
    if not (missing or unexpected or wrong):
        return None
    return KeyError(
        f'teacher_ckpt {filename!r} does not fit the teacher '
        f'{type(teacher).__name__}: missing keys {missing[:10]}'
        f'{" ..." if len(missing) > 10 else ""} ({len(missing)}), '
        f'unexpected keys {unexpected[:10]}'
        f'{" ..." if len(unexpected) > 10 else ""} '
        f'({len(unexpected)}), shape mismatches '
        + ', '.join(f'{k}: checkpoint {tuple(state[k].shape)} vs '
                    f'teacher {tuple(own[k].shape)}'
                    for k in wrong[:10]) + '.')

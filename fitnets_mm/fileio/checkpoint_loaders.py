"""mmengine's checkpoint loaders, routed through :mod:`.safe_checkpoint`.

:func:`register_safe_loaders` adds the allow-list of
:mod:`.safe_checkpoint` to torch's (so a plain ``torch.load`` reads mmengine
checkpoints) and re-registers the ``CheckpointLoader`` schemes that need
more: local paths (errors that name the file), the shipped model zoo
(``fitnets_mm://``, :mod:`.zoo_weights`) and HTTP(S) URLs (OpenMMLab's zoo
checkpoints, ``mmcls://``, ``open-mmlab://``, ``torchvision://``: torch.hub
loads them with ``weights_only=False``; here they are downloaded with a
timeout into a URL-keyed cache, :mod:`.downloads`), so ``teacher_ckpt``,
``load_from`` and ``--resume`` all go through
:func:`~.safe_checkpoint.load_checkpoint_dict`.
"""
import io
import os
from typing import Any, List, Optional

import torch

from ..compat.switches import announce_once
from .download_checks import checkpoint_check
from .downloads import DownloadError, fetch_url
from .safe_checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                              allow_mmengine_globals, load_checkpoint_dict)
from .zoo_weights import ZOO_PREFIX, check_name_hash, zoo_path

__all__ = ['register_safe_loaders', 'register_zoo_loader']


def _announce() -> None:
    announce_once(
        'safe_checkpoint', "mmengine's local and URL checkpoint loaders use "
        "torch's weights-only unpickler and name unsafe or damaged files; "
        "torch's weights-only allow-list holds mmengine's checkpoint types "
        '(HistoryBuffer, its statistics getattr, NumPy arrays, scalars and '
        'dtypes) for every torch.load of this process')


def _load_from_local(filename: str, map_location: Any = None) -> Any:
    _announce()
    filename = os.path.expanduser(filename)
    if not os.path.exists(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_dict(filename, map_location)


def _load_from_http(filename: str,
                    map_location: Any = None,
                    model_dir: Optional[str] = None,
                    progress: bool = False) -> Any:
    """Download once (rank 0 first, as mmengine does), then load.

    The cache is keyed by the full URL, downloads time out and end by a
    deadline, and only a loadable checkpoint is cached (see
    :mod:`.downloads` and :mod:`.download_checks`). Rank 0's outcome is
    broadcast, so on a failed download every rank raises the same error
    instead of waiting.
    """
    from mmengine.dist import get_dist_info
    from torch.hub import get_dir

    _announce()
    model_dir = model_dir or os.path.join(get_dir(), 'checkpoints')
    rank, world_size = get_dist_info()
    check = checkpoint_check(filename)
    cached, error = None, None
    if rank == 0:
        try:
            cached = fetch_url(filename, model_dir, check=check)
        except (DownloadError, UnsafeCheckpointError,
                CorruptCheckpointError) as err:
            error = err
    if world_size > 1:
        shared = [None if error is None else (type(error), str(error))]
        torch.distributed.broadcast_object_list(shared, src=0)
        if rank > 0 and shared[0] is not None:
            error = shared[0][0](shared[0][1])
        if rank > 0 and error is None:  # no shared cache across nodes
            cached = fetch_url(filename, model_dir, check=check)
    if error is not None:  # one line, the same on every rank
        raise type(error)(str(error)) from None
    return load_checkpoint_dict(cached, map_location, name=filename)


def _load_from_zoo(filename: str, map_location: Any = None) -> Any:
    """Load a checkpoint shipped with fitnets_mm (``fitnets_mm://``,
    :mod:`.zoo_weights`) after checking the ``-HASH`` of its name."""
    _announce()
    path = zoo_path(filename)
    check_name_hash(path, filename)
    return load_checkpoint_dict(path, map_location, name=filename)


def _load_from_ceph(filename: str,
                    map_location: Any = None,
                    backend: str = 'petrel') -> Any:
    from mmengine.fileio import get_file_backend
    _announce()
    file_backend = get_file_backend(
        filename, backend_args={'backend': backend})
    return load_checkpoint_dict(io.BytesIO(file_backend.get(filename)),
                                map_location, name=filename)


def _torch_load_is_weights_only() -> bool:
    """Whether a plain ``torch.load`` is weights-only (torch >= 2.6, unless
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is set)."""
    from mmengine.utils import digit_version
    forced_off = os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0') \
        not in ('', '0')
    return digit_version(torch.__version__) >= digit_version('2.6.0') and \
        not forced_off


def register_safe_loaders() -> None:
    """Allow mmengine's checkpoint types (:func:`allow_mmengine_globals`)
    and route the loaders that need more than that through
    :func:`load_checkpoint_dict`.

    * local paths: mmengine's loader would load them with the allow-list
      too, but its errors for an unsafe file advise ``weights_only=False``
      (which would run the payload) and a tensor or folder fails later in
      mmengine; this loader names the file and what is wrong with it.
    * HTTP(S) URLs: mmengine downloads through ``torch.hub``, which loads
      with ``weights_only=False``, without a timeout and with a cache keyed
      by file name (see :mod:`.downloads`). ``load_from_mmcls``,
      ``load_from_openmmlab`` and ``load_from_torchvision`` call the
      module-level ``load_from_http``, which is replaced too.
    * object storage (``s3://``, ``petrel://``): only where a plain
      ``torch.load`` is not weights-only (torch < 2.6); otherwise mmengine's
      own loader is safe with the allow-list.
    """
    from mmengine.runner import checkpoint as ckpt
    allow_mmengine_globals()
    loaders: List[tuple] = [('', _load_from_local),
                            (('http://', 'https://'), _load_from_http)]
    if not _torch_load_is_weights_only():
        loaders.append((('s3://', 'petrel://'), _load_from_ceph))
    for prefixes, loader in loaders:
        ckpt.CheckpointLoader.register_scheme(prefixes, loader, force=True)
    ckpt.load_from_http = _load_from_http


def register_zoo_loader() -> None:
    """Serve ``fitnets_mm://`` paths, the model zoo shipped with the package
    (:mod:`.zoo_weights`): loaded offline, weights-only, after the ``-HASH``
    of the name is checked. A feature, not a fix: it takes no switch."""
    from mmengine.runner import checkpoint as ckpt
    ckpt.CheckpointLoader.register_scheme(ZOO_PREFIX, _load_from_zoo,
                                          force=True)

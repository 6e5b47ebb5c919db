"""The previous best checkpoint is removed only after the new one is saved.

mmengine 0.10.7's ``CheckpointHook._save_best_checkpoint`` removes the
previous ``best_*.pth`` first and then writes the new one. If that write
fails (a full disk, a quota, a lost mount) the run has no best checkpoint
at all: the old one is gone and the new one was never written (atomic
writes, :mod:`.atomic_checkpoint`, leave no partial file either).

:func:`patch_best_checkpoint_order` wraps the method so that the removal
waits: removals of previous best checkpoints requested while it runs are
carried out after it returned, i.e. after the new best checkpoint (and the
checkpoint that records it) were saved. If the method raises, nothing is
removed and the previous best checkpoint stays.
"""
import functools
from typing import Any, Callable, List

from .switches import announce_once

__all__ = ['patch_best_checkpoint_order']


def _removals_after_save(save_best: Callable) -> Callable:
    """``CheckpointHook._save_best_checkpoint`` with deferred removals."""

    @functools.wraps(save_best)
    def wrapper(self: Any, runner: Any, metrics: dict) -> Any:
        backend = getattr(self, 'file_backend', None)
        if backend is None:
            return save_best(self, runner, metrics)
        deferred: List[tuple] = []
        remove, rmtree = backend.remove, backend.rmtree
        backend.remove = lambda path: deferred.append((remove, path))
        backend.rmtree = lambda path: deferred.append((rmtree, path))
        try:
            result = save_best(self, runner, metrics)
        finally:
            del backend.remove, backend.rmtree  # the class's methods again
        if deferred:
            announce_once('atomic_checkpoint', 'the previous best checkpoint '
                          'is removed only after the new one is saved')
        kept = {getattr(self, 'best_ckpt_path', None),
                *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for remove_now, path in deferred:
            if path not in kept:  # never the checkpoint just saved
                remove_now(path)
        return result

    wrapper.__wrapped__ = save_best  # type: ignore[attr-defined]
    return wrapper


def patch_best_checkpoint_order() -> None:
    """Install the deferred removal in mmengine's ``CheckpointHook``
    (idempotent)."""
    from mmengine.hooks import CheckpointHook
    if hasattr(CheckpointHook._save_best_checkpoint, '__wrapped__'):
        return
    CheckpointHook._save_best_checkpoint = _removals_after_save(
        CheckpointHook._save_best_checkpoint)

"""Give every rank rank 0's buffers (BatchNorm statistics) after an epoch."""
from typing import Any

import torch.distributed as torch_dist
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmrazor.registry import HOOKS

__all__ = ['BroadcastBuffersHook']


@HOOKS.register_module()
class BroadcastBuffersHook(Hook):
    """Copy rank 0's model buffers to every rank at the end of each epoch.

    DistributedDataParallel averages gradients, so parameters agree across
    ranks, but each rank's BatchNorm keeps the running statistics of its own
    last batch. Validation on every rank, and the model each rank holds,
    should be rank 0's (the one its checkpoints save). mmengine's
    ``SyncBuffersHook`` averages buffers instead, which is not bitwise the
    same as rank 0's and changes even identical (teacher) buffers by
    rounding; this hook broadcasts, so it is exact.

    Note:
        Runs before validation and the checkpoint (priority
        ``ABOVE_NORMAL``); a no-op in single-process runs.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_epoch(self, runner: Any) -> None:
        """Broadcast every buffer from rank 0."""
        if get_world_size() < 2:
            return
        for buffer in runner.model.buffers():
            torch_dist.broadcast(buffer, src=0)

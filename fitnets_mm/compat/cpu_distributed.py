"""Let mmengine 0.10.7 train with several processes on CPU-only machines.

Two things stop ``bash tools/dist_train.sh CONFIG 2`` on a machine without
GPUs:

1. ``mmengine.dist.utils._init_dist_pytorch`` calls
   ``torch.cuda.set_device(local_rank)`` unconditionally, which raises where
   CUDA is unavailable; and its default backend, NCCL, needs GPUs.
2. ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to
   ``MMDistributedDataParallel``, which PyTorch rejects for CPU modules.

:func:`patch_cpu_distributed` wraps both, changing behaviour only where CUDA
is unavailable: process groups start without ``set_device`` (NCCL is replaced
by Gloo, with a warning), and DDP is built without device ids for modules
whose parameters live on the CPU. On GPU machines both delegate unchanged.
"""
import functools
import warnings
from typing import Any

import torch

__all__ = ['patch_cpu_distributed']


def _cpu_init_dist_pytorch(original: Any) -> Any:

    @functools.wraps(original)
    def init(backend: str, init_backend: str = 'torch', **kwargs: Any) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            warnings.warn('CUDA is unavailable: using the gloo backend '
                          'instead of nccl for CPU training.')
            backend = 'gloo'
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init.__fitnets_mm_patched__ = True
    return init


def _cpu_ddp_init(original: Any) -> Any:

    @functools.wraps(original)
    def __init__(self: Any, module: torch.nn.Module, *args: Any,
                 **kwargs: Any) -> None:
        first = next(module.parameters(), None)
        if first is not None and first.device.type == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        original(self, module, *args, **kwargs)

    __init__.__fitnets_mm_patched__ = True
    return __init__


def patch_cpu_distributed() -> None:
    """Install both CPU fixes (idempotent)."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    if not getattr(dist_utils._init_dist_pytorch, '__fitnets_mm_patched__',
                   False):
        dist_utils._init_dist_pytorch = _cpu_init_dist_pytorch(
            dist_utils._init_dist_pytorch)
    if not getattr(MMDistributedDataParallel.__init__,
                   '__fitnets_mm_patched__', False):
        MMDistributedDataParallel.__init__ = _cpu_ddp_init(
            MMDistributedDataParallel.__init__)

"""Make MMRazor 1.0.0's feature losses accept channels-last (NHWC) features.

Several of MMRazor's losses flatten feature maps with ``Tensor.view``, which
only works on tensors laid out contiguously in NCHW order. With
``channels_last=True`` in the data preprocessor (fitnets_mm's default), the
convolutions return NHWC maps and these losses fail with ``RuntimeError:
view size is not compatible with input tensor's size and stride``:

* ``L2Loss`` with ``normalize=True`` (``l2_loss.py``),
* ``FTLoss`` (``factor_transfer_loss.py``),
* ``ChannelWiseDivergence`` (``cwd.py``),
* ``DistanceWiseRKD`` and ``AngleWiseRKD`` on feature maps
  (``relational_kd.py``),
* ``ActivationLoss`` on feature maps (``dafl_loss.py``).

:func:`patch_nhwc_losses` wraps the ``forward`` of exactly these classes:
a 4-D tensor argument that is not contiguous is made contiguous (one copy of
the feature map, in NCHW order) before MMRazor's code runs; everything else
passes unchanged, so the loss values are MMRazor's. ``ATLoss``,
``KDSoftCELoss``, ``DKDLoss`` and fitnets_mm's own losses work on NHWC
features as they are and are left alone.

Applied by :mod:`fitnets_mm_startup`'s import hook when
``mmrazor.models.losses`` is imported (and by ``import fitnets_mm``),
announced once in the log the first time it copies a feature map, and
turned off by ``FITNETS_MM_COMPAT_OFF=mmrazor_nhwc`` (then keep
``channels_last=False`` in the data preprocessor for these losses).
"""
import functools
import types
from typing import Any, Callable, Tuple

import torch

__all__ = ['NHWC_LOSSES', 'contiguous_features', 'patch_nhwc_losses']

#: The MMRazor loss classes whose ``forward`` ``.view``s feature maps.
NHWC_LOSSES: Tuple[str, ...] = ('L2Loss', 'FTLoss', 'ChannelWiseDivergence',
                                'DistanceWiseRKD', 'AngleWiseRKD',
                                'ActivationLoss')


def _to_nchw(value: Any, copied: list) -> Any:
    if (isinstance(value, torch.Tensor) and value.dim() == 4
            and not value.is_contiguous()):
        copied.append(tuple(value.shape))
        return value.contiguous()
    return value


def contiguous_features(forward: Callable, owner: str) -> Callable:
    """Wrap a loss ``forward`` so that its 4-D tensor arguments are
    contiguous (NCHW) when it runs.

    Args:
        forward (Callable): The loss class's ``forward``.
        owner (str): The class name, for the log.

    Returns:
        Callable: The wrapped ``forward`` (``__wrapped__`` is the original).
    """

    @functools.wraps(forward)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        copied: list = []
        args = tuple(_to_nchw(a, copied) for a in args)
        kwargs = {k: _to_nchw(v, copied) for k, v in kwargs.items()}
        if copied:
            from fitnets_mm_startup import announce
            announce(
                'mmrazor_nhwc',
                f'MMRazor\'s {owner} flattens its inputs with .view, which '
                'fails on channels-last feature maps; its 4-D inputs are '
                f'made contiguous first (e.g. {copied[0]})',
                key=f'mmrazor_nhwc.{owner}')
        return forward(self, *args, **kwargs)

    wrapper._fitnets_mm_nhwc = True
    return wrapper


def patch_nhwc_losses(module: types.ModuleType) -> None:
    """Wrap the ``forward`` of :data:`NHWC_LOSSES` found in ``module``.

    Safe to call more than once (a wrapped ``forward`` is not wrapped again).

    Args:
        module (ModuleType): ``mmrazor.models.losses`` (or one of its
            submodules).
    """
    for name in NHWC_LOSSES:
        cls = getattr(module, name, None)
        if cls is None or getattr(cls.forward, '_fitnets_mm_nhwc', False):
            continue
        cls.forward = contiguous_features(cls.forward, name)

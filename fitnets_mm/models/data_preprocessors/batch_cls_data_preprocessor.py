"""A ClsDataPreprocessor for stacked uint8 batches: crop/flip on the device,
channels_last output and non-blocking copies."""
from typing import Optional

import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmrazor.registry import MODELS

from .batch_crop_flip import batch_crop_flip

__all__ = ['BatchClsDataPreprocessor']


@MODELS.register_module()
@MMPRETRAIN_MODELS.register_module()
class BatchClsDataPreprocessor(ClsDataPreprocessor):
    """MMPretrain's :class:`ClsDataPreprocessor` with three speed options.

    * ``crop_flip``: the CIFAR recipe's ``RandomCrop(32, padding=4)`` and
      ``RandomFlip(0.5)`` applied in training to the whole batch on the
      device (:func:`batch_crop_flip`), before normalisation, so that the
      dataloader's pipeline is only ``PackInputs`` and its workers ship uint8
      arrays. Same distribution of crops and flips, drawn from torch's
      random generator instead of NumPy's.
    * ``channels_last`` (on by default): return the inputs in
      ``torch.channels_last`` memory format. Convolutions then run in NHWC,
      and their outputs stay in it: a training step of the CIFAR-10 main
      pair took 0.73x (stage 1) and 0.76x (stage 2) as long on a CPU
      (``benchmarks/results/step_speed.md``). On GPUs NHWC is the usual
      recommendation for convolutions under AMP (tensor cores); fitnets_mm
      has not measured it there. Inputs with one channel (MNIST) are the
      same in both layouts, so nothing changes for them. Opt out in the
      config with ``channels_last=False``.
    * ``non_blocking``: copy batches to the device without waiting (useful
      with ``pin_memory=True``). MMPretrain's class always blocks.

    Note:
        The dataloader must stack the batch (``collate_fn=dict(type=
        'default_collate')``) when ``crop_flip`` is set; a list of tensors
        (``pseudo_collate``) of one shape is stacked here first.

    Args:
        crop_flip (dict, optional): Arguments of :func:`batch_crop_flip`
            (``padding``, ``flip_prob``, ``pad_val``); None keeps the inputs
            as they are. Defaults to None.
        channels_last (bool): Whether to return channels-last inputs.
            Defaults to True.
        non_blocking (bool): Whether host-to-device copies are asynchronous.
            Defaults to True.
        **kwargs: Arguments of :class:`ClsDataPreprocessor`.
    """

    def __init__(self,
                 crop_flip: Optional[dict] = None,
                 channels_last: bool = True,
                 non_blocking: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if crop_flip is not None:
            unknown = set(crop_flip) - {'padding', 'flip_prob', 'pad_val'}
            if unknown:
                raise ValueError(
                    f'`crop_flip` takes padding, flip_prob and pad_val, but '
                    f'got the unknown keys {sorted(unknown)}.')
        self.crop_flip = dict(crop_flip) if crop_flip is not None else None
        self.channels_last = bool(channels_last)
        self._non_blocking = bool(non_blocking)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Crop and flip (training only), then MMPretrain's steps: to RGB,
        normalise, labels; then the memory format.

        Args:
            data (dict): A batch from the dataloader.
            training (bool): Whether this is a training batch.
                Defaults to False.

        Returns:
            dict: ``inputs`` (float, N, C, H, W) and ``data_samples``.
        """
        if training and self.crop_flip is not None:
            inputs = self.cast_data(data['inputs'])
            if not isinstance(inputs, torch.Tensor):
                shapes = {tuple(x.shape) for x in inputs}
                if len(shapes) != 1:
                    raise ValueError(
                        '`crop_flip` needs inputs of one shape, but the batch '
                        f'has the shapes {sorted(shapes)}.')
                inputs = torch.stack(list(inputs))
            data = dict(data, inputs=batch_crop_flip(inputs, **self.crop_flip))
        out = super().forward(data, training)
        if self.channels_last and out['inputs'].dim() == 4:
            out['inputs'] = out['inputs'].contiguous(
                memory_format=torch.channels_last)
        return out

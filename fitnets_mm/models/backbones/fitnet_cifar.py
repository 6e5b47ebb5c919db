"""The FitNets paper's CIFAR-10 networks: the maxout teacher and FitNet 1-4.

They are tables of :class:`~.maxout_conv_net.MaxoutArchNet`; the generic
:class:`MaxoutConvNet` lives in :mod:`.maxout_conv_net` (and is importable from
here, as before).
"""
from typing import Dict

from mmpretrain.registry import MODELS

from .maxout_conv_net import MaxoutArchNet, MaxoutConvNet

__all__ = ['FitNetCIFAR', 'MaxoutConvNet']


@MODELS.register_module()
class FitNetCIFAR(MaxoutArchNet):
    """The CIFAR-10 networks of FitNets (Romero et al., ICLR 2015).

    ``arch`` picks one of these (conv maxout units per stage; params and
    multiplications measured with 2 pieces and the 500->10 softmax of a
    ``LinearClsHead``, paper Table 5 in brackets):

    * ``'teacher'``: 96 | 192 | 192 (8x8, 8x8, 5x5 kernels);
      9.05M [9M] params, 725M [725M] mult.
    * ``'fitnet1'``: 16-16-16 | 32-32-32 | 48-48-64;
      251K [250K] params, 30.2M [30M] mult; 11 layers with the softmax.
    * ``'fitnet2'``: 16-32-32 | 48-64-80 | 96-96-128;
      864K [862K] params, 108M [108M] mult; 11 layers.
    * ``'fitnet3'``: 32-48-64-64-80 | 80-80-80 | 128-128-128;
      1.51M [1.6M] params, 395M [392M] mult; 13 layers.
    * ``'fitnet4'``: 32-32-32-48-48 | 80 x6 | 128 x6;
      2.55M [2.5M] params, 382M [382M] mult; 19 layers.

    All are followed by a fully-connected maxout layer of 500 units
    (``layers.<last>``), whose output (N, 500) feeds the classifier head:
    use ``neck=None`` and ``LinearClsHead(in_channels=500)``.

    * Teacher: Goodfellow et al.'s maxout network as in pylearn2's
      ``maxout/cifar10.yaml``: conv 8x8 pad 4, pool 4/2; conv 8x8 pad 3,
      pool 4/2; conv 5x5 pad 3, pool 2/2 (maps 33->16, 15->7, 9->5).
    * FitNets (Appendix A): 3x3 convs, padding 1; pool 2/2 after stages 1
      and 2 and 8/1 (to 1x1) after stage 3.

    Hint and guided layers (paths in the backbone; prefix ``backbone.`` in
    a classifier) are in :attr:`paper_hint_layer` (teacher: its 2nd conv
    layer, 192x7x7) and :attr:`paper_guided_layer` (FitNets: the last layer
    of the middle stage, pooled to Nx8x8, as the authors' FitNet 4 config,
    ``hints: [[10, 1]]``).

    Note:
        Choices where the paper is ambiguous:

        * Every maxout layer has 2 pieces, the fully-connected one too
          (the authors' FitNet 4 config has 5 there): with 2, the counts of
          the teacher and FitNet 1, 2, 4 match Table 5 to within 2%.
        * FitNet 3 pools after its 5th conv layer (32-48-64-64-80 |
          80-80-80 | 128-128-128). Pooling after the 4th (widths 32-48-64-64
          | 80 x4 | 128 x3, as the layout is often transcribed) gives 324M
          multiplications, 17% below Table 5's 392M; pooling after the 5th
          gives 395M.
        * Pooling covers every input (:func:`paper_max_pool`), as pylearn2;
          it changes the teacher's maps only.
        * Dropout, max-norm constraints and pylearn2's init are training
          choices, left to the config.

    Args:
        arch (str, optional): One of ``'teacher'``, ``'fitnet1'``,
            ``'fitnet2'``, ``'fitnet3'``, ``'fitnet4'``. Defaults to None
            (``'fitnet4'``).
        num_pieces (int): Linear pieces per maxout unit, in every layer.
            Defaults to 2.
        out_indices (int | Sequence[int]): Indices into ``layers`` whose
            outputs are returned. Defaults to -1 (the 500-unit layer).
        flatten_output (bool, optional): Flatten the returned features to
            (N, D). Defaults to None (False).
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    default_arch = 'fitnet4'
    image_shape = (3, 32, 32)
    default_flatten_output = False

    arch_settings: Dict[str, dict] = {
        'teacher':
        dict(
            stages=[
                dict(channels=[96], kernel_size=8, padding=4, pool_size=4,
                     pool_stride=2),
                dict(channels=[192], kernel_size=8, padding=3, pool_size=4,
                     pool_stride=2),
                dict(channels=[192], kernel_size=5, padding=3, pool_size=2,
                     pool_stride=2),
            ],
            fc_channels=500),
        'fitnet1':
        dict(
            stages=[
                dict(channels=[16, 16, 16]),
                dict(channels=[32, 32, 32]),
                dict(channels=[48, 48, 64], pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
        'fitnet2':
        dict(
            stages=[
                dict(channels=[16, 32, 32]),
                dict(channels=[48, 64, 80]),
                dict(channels=[96, 96, 128], pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
        'fitnet3':
        dict(
            stages=[
                dict(channels=[32, 48, 64, 64, 80]),
                dict(channels=[80, 80, 80]),
                dict(channels=[128, 128, 128], pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
        'fitnet4':
        dict(
            stages=[
                dict(channels=[32, 32, 32, 48, 48]),
                dict(channels=[80] * 6),
                dict(channels=[128] * 6, pool_size=8, pool_stride=1),
            ],
            fc_channels=500),
    }

    #: The teacher's hint layer: the output of its 2nd conv layer.
    paper_hint_layer: Dict[str, str] = {'teacher': 'layers.1'}

    #: Each FitNet's guided layer: the last layer of its middle stage.
    paper_guided_layer: Dict[str, str] = {
        'fitnet1': 'layers.5',
        'fitnet2': 'layers.5',
        'fitnet3': 'layers.7',
        'fitnet4': 'layers.10',
    }

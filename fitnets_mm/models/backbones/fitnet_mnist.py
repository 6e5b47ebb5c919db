"""The FitNets paper's MNIST networks: the maxout teacher and thin student."""
from typing import Dict

from mmpretrain.registry import MODELS

from .maxout_conv_net import MaxoutArchNet

__all__ = ['FitNetMNIST']


@MODELS.register_module()
class FitNetMNIST(MaxoutArchNet):
    """The MNIST networks of FitNets (Romero et al., ICLR 2015, Sec. 4.2).

    ``arch`` picks one of (1x28x28 input; measured with 2 pieces and the
    softmax of a ``LinearClsHead``; paper Table 4 in brackets):

    * ``'teacher'``: Goodfellow et al.'s maxout network, 3 conv layers of
      48-48-24 units (pylearn2 ``maxout/mnist.yaml``): conv 8x8 pad 0,
      pool 4/2; conv 8x8 pad 3, pool 4/2; conv 5x5 pad 3, pool 2/2; maps
      21->10, 9->4, 6->3. 361K params [361K], 28.7M multiplications.
    * ``'student'``: the thin deep student, 6 conv layers of
      16-16 | 16-16 | 12-12 units, as the authors' ``MNIST_fitnet`` config:
      kernels 5-3 | 5-3 | 3-3, paddings 0-0 | 3-0 | 3-0, pool 4/2, 4/2, 2/2
      after each pair; maps 24, 22->10, 12, 10->4, 8, 6->3. 30.1K params
      [30K], 5.3M multiplications.

    Neither has a fully-connected hidden layer: the softmax reads the last
    conv map, so ``flatten_output`` defaults to True and the classifier is
    ``neck=None`` with ``LinearClsHead(in_channels=216)`` (teacher,
    24x3x3) or ``LinearClsHead(in_channels=108)`` (student, 12x3x3).

    Hint and guided layers, by module path in the backbone (prefix
    ``backbone.`` in a classifier): :attr:`paper_hint_layer` (teacher: its
    2nd conv layer, 48x4x4) and :attr:`paper_guided_layer` (student: its
    middle, 4th conv layer, 16x4x4), as the authors' ``hints: [[3, 1]]``.

    Note:
        Choices where the paper is ambiguous: every layer has 2 pieces. The
        authors' student config has 4 pieces in its last two layers, and
        Goodfellow's teacher 4 in its third; with those, the counts are 36K
        and 418K, not Table 4's 30K and 361K. No normalization layers and
        no fully-connected hidden layer, as the paper; dropout and max-norm
        constraints are training choices left to the config.

    Args:
        arch (str, optional): ``'teacher'`` or ``'student'``. Defaults to
            None (``'student'``).
        num_pieces (int): Linear pieces per maxout unit, in every layer.
            Defaults to 2.
        out_indices (int | Sequence[int]): Indices into ``layers`` whose
            outputs are returned. Defaults to -1 (the last conv layer).
        flatten_output (bool, optional): Flatten the returned features to
            (N, D). Defaults to None (True).
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    default_arch = 'student'
    image_shape = (1, 28, 28)
    default_flatten_output = True

    arch_settings: Dict[str, dict] = {
        'teacher':
        dict(stages=[
            dict(channels=[48], kernel_size=8, padding=0, pool_size=4,
                 pool_stride=2),
            dict(channels=[48], kernel_size=8, padding=3, pool_size=4,
                 pool_stride=2),
            dict(channels=[24], kernel_size=5, padding=3, pool_size=2,
                 pool_stride=2),
        ]),
        'student':
        dict(stages=[
            dict(channels=[16, 16], kernel_size=[5, 3], padding=[0, 0],
                 pool_size=4, pool_stride=2),
            dict(channels=[16, 16], kernel_size=[5, 3], padding=[3, 0],
                 pool_size=4, pool_stride=2),
            dict(channels=[12, 12], kernel_size=[3, 3], padding=[3, 0],
                 pool_size=2, pool_stride=2),
        ]),
    }

    #: The teacher's hint layer: the output of its 2nd conv layer.
    paper_hint_layer: Dict[str, str] = {'teacher': 'layers.1'}

    #: The student's guided layer: its middle (4th) conv layer.
    paper_guided_layer: Dict[str, str] = {'student': 'layers.3'}

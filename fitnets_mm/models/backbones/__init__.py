"""The FitNets paper's networks as MMPretrain backbones, and maxout layers."""
from .fitnet_cifar import FitNetCIFAR
from .fitnet_mnist import FitNetMNIST
from .maxout import Maxout, MaxoutConv2d, MaxoutLinear, paper_max_pool
from .maxout_conv_net import MaxoutArchNet, MaxoutConvNet

__all__ = [
    'FitNetCIFAR', 'FitNetMNIST', 'Maxout', 'MaxoutArchNet', 'MaxoutConv2d',
    'MaxoutConvNet', 'MaxoutLinear', 'paper_max_pool'
]

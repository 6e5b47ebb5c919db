"""The FitNets paper's networks as MMPretrain backbones, and maxout layers."""
from .fitnet_cifar import FitNetCIFAR, MaxoutConvNet
from .fitnet_mnist import FitNetMNIST
from .maxout import Maxout, MaxoutConv2d, MaxoutLinear, paper_max_pool

__all__ = [
    'FitNetCIFAR', 'FitNetMNIST', 'Maxout', 'MaxoutConv2d', 'MaxoutConvNet',
    'MaxoutLinear', 'paper_max_pool'
]

# The main job: FitNets on CIFAR-10 (see configs/fitnets/README.md).
_base_ = ['./fitnets/fitnets_resnet34-resnet50-thin_1xb128_cifar10.py']

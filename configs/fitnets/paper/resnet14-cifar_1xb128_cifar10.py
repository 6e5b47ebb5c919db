# The student of the FSP paper's CIFAR-10 setting trained alone by
# backprop, the baseline that FSP's stage 1 should speed up:
#   python tools/train.py configs/fitnets/paper/resnet14-cifar_1xb128_cifar10.py
_base_ = ['./resnet28-cifar_1xb128_cifar10.py']

model = {{_base_.resnet14_cifar}}

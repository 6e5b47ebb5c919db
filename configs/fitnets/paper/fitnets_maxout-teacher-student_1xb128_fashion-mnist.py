# FitNets on Fashion-MNIST with the paper's MNIST networks and the model
# zoo's Fashion-MNIST teacher (shipped with fitnets_mm, loaded offline):
# fitnets_maxout-teacher-student_1xb128_mnist.py (Adam 1e-3, both stages)
# with the data swapped. The README's first run:
#   sudo apt-get install dataset-fashion-mnist
#   python tools/train.py configs/fitnets/paper/fitnets_maxout-teacher-student_1xb128_fashion-mnist.py
# The student alone: maxout-student_1xb128_fashion-mnist.py.
_base_ = ['./fitnets_maxout-teacher-student_1xb128_mnist.py']

_data = dict(type='FashionMNISTGz',
             data_root='/usr/share/datasets/fashion-mnist')
_preprocessor = dict(mean=[72.94], std=[90.02])
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
model = dict(
    architecture=dict(data_preprocessor=_preprocessor),
    teacher=dict(data_preprocessor=_preprocessor),
    teacher_ckpt='fitnets_mm://fashion-mnist/'
    'maxout-teacher_1xb128_fashion-mnist_20261202-e704f260.pth')

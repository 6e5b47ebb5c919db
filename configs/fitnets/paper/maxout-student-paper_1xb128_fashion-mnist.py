# The paper's thin deep MNIST student (30K parameters) trained alone by
# backprop on Fashion-MNIST, in the authors' regime (RMSProp 5e-4, max-norm,
# U(+-0.005) init; images 0-49,999 of the training set): the backprop
# baseline beside the KD, FitNets and FSP students.
#   python tools/train.py configs/fitnets/paper/maxout-student-paper_1xb128_fashion-mnist.py
# The data: configs/_base_/datasets/fashion_mnist_bs128.py.
_base_ = ['./maxout-student-paper_1xb128_mnist.py']

_data = dict(type='FashionMNISTGz',
             data_root='/usr/share/datasets/fashion-mnist')
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
model = dict(data_preprocessor=dict(mean=[72.94], std=[90.02]))

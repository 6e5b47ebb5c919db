# The paper's thin deep MNIST student (30K parameters) on Fashion-MNIST,
# trained alone by backprop with Adam 1e-3 (maxout-student_1xb128_mnist.py
# with the data swapped); also the config that tests the student exported
# from fitnets_maxout-teacher-student_1xb128_fashion-mnist.py.
#   python tools/train.py configs/fitnets/paper/maxout-student_1xb128_fashion-mnist.py
_base_ = ['./maxout-student_1xb128_mnist.py']

_data = dict(type='FashionMNISTGz',
             data_root='/usr/share/datasets/fashion-mnist')
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
model = dict(data_preprocessor=dict(mean=[72.94], std=[90.02]))

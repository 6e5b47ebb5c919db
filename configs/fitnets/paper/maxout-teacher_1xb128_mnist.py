# The paper's MNIST teacher, trained by plain backprop (MMPretrain model).
#   python tools/train.py configs/fitnets/paper/maxout-teacher_1xb128_mnist.py
_base_ = [
    '../../_base_/datasets/mnist_bs128.py',
    '../../_base_/models/maxout-teacher_mnist.py',
    '../../_base_/schedules/mnist_adam.py',
    '../../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})

# The FitNets paper's MNIST teacher (maxout, 361K parameters) on
# Fashion-MNIST, trained by plain backprop (Adam 1e-3, as on MNIST).
#   sudo apt-get install dataset-fashion-mnist
#   python tools/train.py configs/fitnets/paper/maxout-teacher_1xb128_fashion-mnist.py
_base_ = [
    '../../_base_/datasets/fashion_mnist_bs128.py',
    '../../_base_/models/maxout-teacher_mnist.py',
    '../../_base_/schedules/mnist_adam.py',
    '../../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})

# The paper's thin deep MNIST student trained alone by backprop (the
# baseline of Table 4).
_base_ = [
    '../../_base_/datasets/mnist_bs128.py',
    '../../_base_/models/maxout-student_mnist.py',
    '../../_base_/schedules/mnist_adam.py',
    '../../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})

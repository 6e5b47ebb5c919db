# The paper's CIFAR-10 teacher: a maxout conv net (Goodfellow et al., 2013),
# 9M parameters, 725M multiplications (Table 5), with CIFAR-10's data
# preprocessor (see ./maxout_cifar10.py).
_base_ = ['./maxout_cifar10.py']

model = {{_base_.maxout_teacher_cifar10}}

# FSP (Yim et al., CVPR 2017) on Fashion-MNIST with the paper's MNIST pair,
# as fsp_maxout-teacher-student_1xb128_mnist.py (Adam 1e-3 in both stages;
# stage 2 on the labels alone).
#   python tools/train.py configs/fitnets/paper/fsp_maxout-teacher-student_1xb128_fashion-mnist.py \
#       --cfg-options model.teacher_ckpt=work_dirs/maxout-teacher_1xb128_fashion-mnist/epoch_10.pth
_base_ = ['./fsp_maxout-teacher-student_1xb128_mnist.py']

_data = dict(type='FashionMNISTGz',
             data_root='/usr/share/datasets/fashion-mnist')
_preprocessor = dict(mean=[72.94], std=[90.02])
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
model = dict(
    architecture=dict(data_preprocessor=_preprocessor),
    teacher=dict(data_preprocessor=_preprocessor),
    teacher_ckpt='work_dirs/maxout-teacher_1xb128_fashion-mnist/epoch_10.pth')

# KD alone on Fashion-MNIST, the paper's MNIST pair in the authors' regime:
# the FitNets config without hints and without stage 1.
#   python tools/train.py configs/fitnets/paper/kd-paper_maxout-teacher-student_1xb128_fashion-mnist.py \
#       --cfg-options model.teacher_ckpt=work_dirs/maxout-teacher_1xb128_fashion-mnist/epoch_10.pth
_base_ = ['./fitnets-paper_maxout-teacher-student_1xb128_fashion-mnist.py']

model = dict(hints=[])
train_cfg = dict(hint_epochs=0)

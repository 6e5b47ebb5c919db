# Fashion-MNIST (Xiao et al., 2017): 60,000 training and 10,000 test 28x28
# grey images of 10 kinds of clothing, read from the four official `.gz`
# files where Debian installs them:
#   sudo apt-get install dataset-fashion-mnist   # /usr/share/datasets/fashion-mnist
# `FashionMNISTGz` (fitnets_mm) reads the `.gz` files as they are (read-only,
# no download); a missing or damaged file stops the run with an error that
# names it and `data_root`. Another folder holding the same four files: set
# each dataloader's `dataset.data_root` (e.g. with --cfg-options).
# It chooses the split by `test_mode`, as MMPretrain's MNIST. Mean and std
# are those of the 60,000 training images (72.94, 90.02 on 0-255).
_base_ = ['./mnist_bs128.py']

dataset_type = 'FashionMNISTGz'
data_root = '/usr/share/datasets/fashion-mnist'
data_preprocessor = dict(mean=[72.94], std=[90.02])

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader

# The CIFAR-10 job with the recipe's pad-and-crop and flip done per batch on
# the device by the data preprocessor. The dataloader workers only gather the
# uint8 images, a whole batch at a time (`ArrayBatchDataset`); see
# benchmarks/data_pipeline.py for the images/s it gives. Same distribution of
# crops (offsets uniform in 0..8 on each axis) and flips (p = 0.5), drawn
# from torch's generator instead of NumPy's.
#
#   python tools/train.py \
#       configs/fitnets/fitnets_resnet34-resnet50-thin_1xb128_cifar10_batch-aug.py
_base_ = ['./fitnets_resnet34-resnet50-thin_1xb128_cifar10.py']

model = dict(
    architecture=dict(
        data_preprocessor=dict(crop_flip=dict(padding=4, flip_prob=0.5))))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ArrayBatchDataset',
        dataset=dict(
            type={{_base_.dataset_type}},
            data_root={{_base_.data_root}},
            split='train',
            pipeline=[dict(type='PackInputs')])))

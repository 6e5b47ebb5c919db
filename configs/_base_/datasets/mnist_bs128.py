# MNIST in MMPretrain's layout (four idx files in `data_root`). MMPretrain's
# MNIST downloads the official files into `data_root` when they are missing;
# it chooses the files by `test_mode`; `split='test'` goes with it only so that
# MMPretrain 1.2 does not warn 'split="train" but test_mode=True. The training
# set will be used.', which is false (the test files are read). Batches are
# stacked in the workers (`default_collate`), as in cifar10_bs128.py.
dataset_type = 'MNIST'
data_root = 'data/mnist/'
data_preprocessor = dict(
    type='BatchClsDataPreprocessor',
    num_classes=10,
    mean=[33.46],
    std=[78.87],
    to_rgb=False)

train_pipeline = [dict(type='PackInputs')]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        test_mode=False,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=500,
    num_workers=2,
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# The paper's thin deep MNIST student (maxout conv net, 30K parameters).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='FitNetMNIST', arch='student'),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=108,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

# The paper's MNIST teacher (maxout conv net, 361K parameters).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='FitNetMNIST', arch='teacher'),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=216,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

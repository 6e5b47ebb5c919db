# The paper's CIFAR-10 teacher: a maxout conv net (Goodfellow et al., 2013),
# 9M parameters, 725M multiplications (Table 5). The backbone ends in the
# 500-unit fully-connected maxout layer, so there is no neck.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='FitNetCIFAR', arch='teacher'),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=500,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

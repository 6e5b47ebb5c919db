# The thin deep MNIST student trained alone by backprop in the authors'
# regime (Table 4's baseline): RMSProp 5e-4, max-norm constraints,
# U(+-0.005) init, digits 0-49,999.
#   python tools/train.py configs/fitnets/paper/maxout-student-paper_1xb128_mnist.py
_base_ = ['./maxout-student_1xb128_mnist.py']

_uniform = dict(type='Uniform', layer=['Conv2d', 'Linear'], a=-0.005,
                b=0.005, bias=0.)
model = dict(backbone=dict(init_cfg=_uniform), head=dict(init_cfg=_uniform))
train_dataloader = dict(dataset=dict(indices=range(50000)))
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='RMSprop', lr=5e-4, alpha=0.9, eps=1e-5))
train_cfg = dict(max_epochs=200)
custom_hooks = [
    dict(
        type='mmrazor.MaxNormHook',
        rules=[
            dict(modules='backbone.layers.[01].conv', max_norm=0.9),
            dict(modules='backbone.layers.*.conv', max_norm=1.9365),
            dict(modules='head.fc', max_norm=1.9365),
        ]),
]

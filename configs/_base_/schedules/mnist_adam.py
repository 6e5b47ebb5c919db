# Plain (single-stage) schedule for the paper's MNIST networks. These maxout
# nets have no normalisation layers: with SGD (momentum 0.9) the teacher
# went to NaN within 4 epochs at lr 0.05 and the student at lr >= 0.05,
# while Adam at 1e-3 trained both (see benchmarks/README.md).
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = None
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)

# End-to-end test of FSP: the FitNets end-to-end pair (ResNet-18 teacher,
# 8 base channels; thinner, deeper ResNet-34 student, 6 base channels) with
# FSP in stage 1 (one pair per network in the middle stage: the output of
# its first block and the stage's output, 16 x 16 maps; the student's 12
# channels mapped to the teacher's 16 by a 1x1 connector) and the labels
# alone in stage 2, as the FSP paper.
_base_ = ['./e2e_fitnets_mnist.py']

model = dict(
    type='FSPDistill',
    hints=[],
    fsp_pairs=[
        dict(
            student=('backbone.layer2.0', 'backbone.layer2'),
            teacher=('backbone.layer2.0', 'backbone.layer2'),
            connector=dict()),
    ],
    distiller=dict(_delete_=True, type='ConfigurableDistiller'))
custom_hooks = []

"""``fitnets_mm.compat.mmrazor_nhwc``: MMRazor's ``.view`` losses and the
losses the configs use give the same values and gradients on channels-last
(NHWC) feature maps as on NCHW ones."""
import os
import subprocess
import sys

import pytest
import torch

import fitnets_mm  # noqa: F401  (registers our losses, applies the fixes)
from fitnets_mm.compat import mmrazor_nhwc
from mmrazor.registry import MODELS  # noqa: I100

#: Feature losses (s_feature, t_feature) of 4-D maps: MMRazor's that
#: ``.view`` (fixed here), MMRazor's ATLoss (used by a config), ours.
FEATURE_LOSSES = [
    dict(type='L2Loss', normalize=True),
    dict(type='L2Loss', normalize=False),
    dict(type='FTLoss'),
    dict(type='ChannelWiseDivergence', tau=1.0),
    dict(type='DistanceWiseRKD'),
    dict(type='AngleWiseRKD'),
    dict(type='ATLoss'),
    dict(type='HintLoss'),
    dict(type='HintCELoss'),
]


def _maps(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(4, 8, 6, 6, generator=g)
    t = torch.randn(4, 8, 6, 6, generator=g)
    return s, t


def _value_and_grad(loss: torch.nn.Module, s: torch.Tensor,
                    t: torch.Tensor, channels_last: bool):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    s = s.clone().contiguous(memory_format=fmt).requires_grad_(True)
    t = t.clone().contiguous(memory_format=fmt)
    value = loss(s, t)
    value.backward()
    return value.detach(), s.grad


@pytest.mark.parametrize('cfg', FEATURE_LOSSES,
                         ids=[c['type'] + ('-norm' if c.get('normalize')
                                           else '') for c in FEATURE_LOSSES])
def test_feature_losses_are_layout_independent(cfg: dict) -> None:
    loss = MODELS.build(dict(cfg))
    s, t = _maps()
    v0, g0 = _value_and_grad(loss, s, t, channels_last=False)
    v1, g1 = _value_and_grad(loss, s, t, channels_last=True)
    torch.testing.assert_close(v1, v0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g1, g0, rtol=1e-5, atol=1e-6)


def test_fsp_loss_is_layout_independent() -> None:
    loss = MODELS.build(dict(type='FSPLoss'))
    a, b = _maps(1)
    c, d = _maps(2)
    cl = torch.channels_last
    v0 = loss(a, b, c, d)
    v1 = loss(*(x.contiguous(memory_format=cl) for x in (a, b, c, d)))
    torch.testing.assert_close(v1, v0, rtol=1e-5, atol=1e-6)


def test_only_the_view_losses_are_wrapped() -> None:
    from mmrazor.models import losses
    for name in mmrazor_nhwc.NHWC_LOSSES:
        assert getattr(getattr(losses, name).forward, '_fitnets_mm_nhwc')
    for name in ('ATLoss', 'KDSoftCELoss', 'DKDLoss'):
        assert not hasattr(getattr(losses, name).forward, '_fitnets_mm_nhwc')
    # KDSoftCELoss and DKDLoss get (N, K) logits: no layout to fix.
    # patching twice wraps once
    before = losses.L2Loss.forward
    mmrazor_nhwc.patch_nhwc_losses(losses)
    assert losses.L2Loss.forward is before


PROBE = '''
import torch, fitnets_mm
from mmrazor.registry import MODELS
x = torch.randn(2, 4, 3, 3).contiguous(memory_format=torch.channels_last)
try:
    MODELS.build(dict(type='L2Loss', normalize=True))(x, x)
    print('ok')
except RuntimeError as err:
    print('view' in str(err))
'''


@pytest.mark.parametrize('off, expected', [('', 'ok'),
                                           ('mmrazor_nhwc', 'True')])
def test_switch_turns_the_fix_off(off: str, expected: str) -> None:
    # With the fix off, MMRazor's own L2Loss fails on NHWC (the bug).
    env = dict(os.environ, FITNETS_MM_COMPAT_OFF=off,
               PYTHONWARNINGS='ignore')
    out = subprocess.run([sys.executable, '-c', PROBE], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().split('\n')[-1] == expected

"""FeatureRecorder: hooks registered once and inactive between uses, removed
with the recorder, and safe to copy with the model."""
import copy
import gc

import pytest
import torch
from torch import nn

from fitnets_mm.models.utils import FeatureRecorder


class Chain(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.c = nn.Linear(4, 2)
        self.calls = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append('a')
        x = self.a(x)
        self.calls.append('b')
        x = self.b(x)
        self.calls.append('c')
        return self.c(x)


def test_records_and_stops() -> None:
    net = Chain()
    x = torch.randn(3, 4)
    feats = FeatureRecorder(net, ['b'], stop=True).run(lambda: net(x))
    assert torch.allclose(feats['b'], net.b(net.a(x)))
    assert net.calls == ['a', 'b']  # c never ran


def test_hooks_registered_once_and_inactive_between_runs(monkeypatch) -> None:
    net = Chain()
    recorder = FeatureRecorder(net, ['a', 'b'], stop=True)
    registered = []
    original = nn.Module.register_forward_hook

    def counting(module, hook, **kwargs):
        registered.append(module)
        return original(module, hook, **kwargs)

    monkeypatch.setattr(nn.Module, 'register_forward_hook', counting)
    x = torch.randn(2, 4)
    for _ in range(3):
        recorder.run(lambda: net(x))
    assert registered == [net.a, net.b]
    assert len(net.b._forward_hooks) == 1
    # outside the recorder the hooks neither record nor stop the pass
    net.calls.clear()
    net(x)
    assert net.calls == ['a', 'b', 'c']
    assert recorder.outputs == {}  # no activations kept between uses


def test_hooks_removed_with_the_recorder() -> None:
    net = Chain()
    recorder = FeatureRecorder(net, ['b'])
    recorder.run(lambda: net(torch.randn(1, 4)))
    assert len(net.b._forward_hooks) == 1
    recorder.remove()
    assert not net.b._forward_hooks
    recorder.run(lambda: net(torch.randn(1, 4)))  # registers again
    assert len(net.b._forward_hooks) == 1
    del recorder
    gc.collect()
    assert not net.b._forward_hooks


class Owner(nn.Module):
    """A model holding a recorder on its own submodule, as FitNetsDistill
    does."""

    def __init__(self) -> None:
        super().__init__()
        self.net = Chain()
        self.recorder = FeatureRecorder(self.net, ['b'], stop=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.recorder.run(lambda: self.net(x))['b']


@pytest.mark.parametrize('how', ['deepcopy', 'pickle'])
def test_copied_model_records_its_own_modules(how, tmp_path) -> None:
    owner = Owner()
    x = torch.randn(2, 4)
    owner(x)  # hooks registered before the copy
    if how == 'deepcopy':
        twin = copy.deepcopy(owner)
    else:
        torch.save(owner, tmp_path / 'owner.pth')
        twin = torch.load(tmp_path / 'owner.pth', weights_only=False)
    with torch.no_grad():
        twin.net.b.weight.add_(1.0)
    assert torch.allclose(twin(x), twin.net.b(twin.net.a(x)))
    assert torch.allclose(owner(x), owner.net.b(owner.net.a(x)))
    assert not torch.allclose(twin(x), owner(x))

"""``fitnets_mm.compat.mmcls_rename``: MMRazor's KDSoftCELoss on MMPretrain."""
import fitnets_mm  # noqa: F401, I001  (first: mmrazor.models needs it)
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.losses import cross_entropy_loss
from mmrazor.models.losses import KDSoftCELoss, kd_soft_ce_loss
from mmrazor.utils import get_placeholder

from fitnets_mm.compat import patch_mmcls_rename


def _logits() -> tuple:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(4, 10, generator=gen), torch.randn(4, 10, generator=gen)


def test_kd_soft_ce_loss_works_after_import() -> None:
    preds_s, preds_t = _logits()
    loss = KDSoftCELoss(tau=2.0, loss_weight=0.5)(preds_s, preds_t)
    soft_t = F.softmax(preds_t / 2, dim=1)
    expected = -(soft_t * F.log_softmax(preds_s / 2, dim=1)).sum(1).mean()
    torch.testing.assert_close(loss, 0.5 * 4 * expected)


def test_placeholder_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kd_soft_ce_loss, 'soft_cross_entropy',
                        get_placeholder('mmcls'))
    preds_s, preds_t = _logits()
    # Without the fix the loss cannot run at all ...
    with pytest.raises(TypeError, match='reduction'):
        KDSoftCELoss()(preds_s, preds_t)
    assert patch_mmcls_rename() == [
        'mmrazor.models.losses.kd_soft_ce_loss.soft_cross_entropy'
    ]
    assert (kd_soft_ce_loss.soft_cross_entropy is
            cross_entropy_loss.soft_cross_entropy)
    assert torch.isfinite(KDSoftCELoss()(preds_s, preds_t))  # ... now it does


def test_real_mmcls_function_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:

    def from_mmcls(*args: object, **kwargs: object) -> None:
        """Stands for ``mmcls``'s soft_cross_entropy where mmcls exists."""

    monkeypatch.setattr(kd_soft_ce_loss, 'soft_cross_entropy', from_mmcls)
    assert patch_mmcls_rename() == []
    assert kd_soft_ce_loss.soft_cross_entropy is from_mmcls

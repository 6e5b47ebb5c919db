"""batch_crop_flip draws the recipe's crops and flips: every offset in 0..8 on
each axis and both flips equally often, independently per sample."""
import math

import numpy as np
import pytest
import torch

from fitnets_mm.models.data_preprocessors import batch_crop_flip

PAD = 4
SPAN = 2 * PAD + 1  # offsets 0..8 per axis


def _chi2_limit(dof: int, z: float = 3.719) -> float:
    """Wilson-Hilferty quantile of chi-square(dof) at 1 - 1e-4 (z)."""
    a = 2.0 / (9 * dof)
    return dof * (1 - a + z * math.sqrt(a))**3


def _chi2(counts: np.ndarray) -> float:
    expected = counts.sum() / counts.size
    return float(((counts - expected)**2 / expected).sum())


def _position_batch(n: int) -> torch.Tensor:
    """uint8 images whose channel 0 is row + 1 and channel 1 is col + 1."""
    rows = torch.arange(1, 33, dtype=torch.uint8)[:, None].expand(32, 32)
    cols = torch.arange(1, 33, dtype=torch.uint8)[None, :].expand(32, 32)
    img = torch.stack([rows, cols, torch.zeros_like(rows)])
    return img.expand(n, 3, 32, 32).contiguous()


def _decode(out: torch.Tensor, padding: int = PAD):
    """(offset_h, offset_w, flipped) of each output image."""
    # output pixel 16 is padded pixel offset + 16 (offset + 15 if flipped),
    # i.e. original pixel offset + 16 - padding, whose value is one more
    centre = out[:, :, 16, 16].long()
    flipped = (out[:, 1, 16, 17].long() - centre[:, 1]) == -1
    off_h = centre[:, 0] - 17 + padding
    off_w = centre[:, 1] - 17 + padding + flipped.long()
    return off_h.numpy(), off_w.numpy(), flipped.numpy()


def _draw(n: int, seed: int = 0, **kwargs):
    gen = torch.Generator().manual_seed(seed)
    parts = [
        _decode(batch_crop_flip(_position_batch(2048), generator=gen,
                                **kwargs), kwargs.get('padding', PAD))
        for _ in range(-(-n // 2048))
    ]
    return [np.concatenate(p)[:n] for p in zip(*parts)]


def test_matches_padded_crop_and_flip() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8,
                      generator=gen)
    out = batch_crop_flip(_position_batch(64), generator=gen.manual_seed(2))
    off_h, off_w, flip = _decode(out)
    out = batch_crop_flip(x, generator=gen.manual_seed(2))
    assert out.dtype == torch.uint8 and out.shape == x.shape
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))
    for i in range(64):
        ref = padded[i, :, off_h[i]:off_h[i] + 32, off_w[i]:off_w[i] + 32]
        if flip[i]:
            ref = ref[:, :, ::-1]
        np.testing.assert_array_equal(out[i].numpy(), ref)
    # the batch holds flipped and unflipped images and several offsets
    assert 0 < flip.sum() < 64 and len(set(off_h)) > 3


def test_offsets_and_flips_uniform_and_independent() -> None:
    n = SPAN * SPAN * 2 * 100  # 100 expected per (off_h, off_w, flip) cell
    off_h, off_w, flip = _draw(n)
    assert off_h.min() == 0 and off_h.max() == 2 * PAD
    assert off_w.min() == 0 and off_w.max() == 2 * PAD
    # joint uniformity over the 162 cells: uniform marginals and
    # independence of the two offsets and the flip within a sample
    cell = (off_h * SPAN + off_w) * 2 + flip
    joint = np.bincount(cell, minlength=SPAN * SPAN * 2)
    assert _chi2(joint) < _chi2_limit(joint.size - 1), joint
    # independence across samples: consecutive pairs are uniform too
    pairs_h = np.bincount(off_h[:-1] * SPAN + off_h[1:],
                          minlength=SPAN * SPAN)
    assert _chi2(pairs_h) < _chi2_limit(pairs_h.size - 1), pairs_h
    pairs_f = np.bincount(flip[:-1] * 2 + flip[1:], minlength=4)
    assert _chi2(pairs_f) < _chi2_limit(3), pairs_f


def test_flip_prob_and_no_padding() -> None:
    off_h, off_w, flip = _draw(4096, padding=0, flip_prob=0.25)
    assert (off_h == 0).all() and (off_w == 0).all()
    assert abs(flip.mean() - 0.25) < 0.03
    x = _position_batch(8)
    assert torch.equal(batch_crop_flip(x, padding=0, flip_prob=0.0), x)


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        batch_crop_flip(torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match='flip_prob=1.5'):
        batch_crop_flip(torch.zeros(1, 3, 32, 32), flip_prob=1.5)

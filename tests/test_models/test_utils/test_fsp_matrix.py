"""fsp_matrix: G_ij = sum_{s,t} F1[s,t,i] F2[s,t,j] / (h w), and pooling."""
import pytest
import torch

from fitnets_mm.models.utils import fsp_matrix, match_spatial


def test_matches_hand_computation_on_fixed_tensors():
    # One sample, F1 with m = 2 channels, F2 with n = 1, on 1 x 2 positions.
    f1 = torch.tensor([[[[1., 2.]], [[3., -1.]]]])
    f2 = torch.tensor([[[[4., 5.]]]])
    g = fsp_matrix(f1, f2)
    # G_00 = (1*4 + 2*5) / 2 = 7; G_10 = (3*4 - 1*5) / 2 = 3.5
    assert g.shape == (1, 2, 1)
    assert g[0, :, 0].tolist() == [7.0, 3.5]


def test_is_per_sample_and_divides_by_positions():
    torch.manual_seed(0)
    f1, f2 = torch.randn(3, 4, 5, 6), torch.randn(3, 2, 5, 6)
    g = fsp_matrix(f1, f2)
    assert g.shape == (3, 4, 2)
    for x in range(3):
        for i in range(4):
            for j in range(2):
                expected = (f1[x, i] * f2[x, j]).sum() / 30
                assert g[x, i, j].item() == pytest.approx(
                    expected.item(), rel=1e-5, abs=1e-6)


def test_different_sizes_raise_an_error_that_names_both_and_the_option():
    with pytest.raises(ValueError) as err:
        fsp_matrix(torch.ones(2, 3, 8, 8), torch.ones(2, 4, 4, 4))
    msg = str(err.value)
    assert '(2, 3, 8, 8)' in msg and '(2, 4, 4, 4)' in msg
    assert "pool='avg'" in msg


def test_avg_pool_shrinks_the_larger_map_to_the_smaller():
    big = torch.arange(16.).reshape(1, 1, 4, 4)
    small = torch.ones(1, 1, 2, 2)
    a, b = match_spatial(big, small, pool='avg')
    assert a.shape == b.shape == (1, 1, 2, 2)
    assert a.flatten().tolist() == [2.5, 4.5, 10.5, 12.5]
    assert b is small
    # and in either order, with max pooling as torchdistill
    b2, a2 = match_spatial(small, big, pool='max')
    assert a2.flatten().tolist() == [5., 7., 13., 15.]
    g = fsp_matrix(big, small, pool='avg')
    assert g.item() == pytest.approx((2.5 + 4.5 + 10.5 + 12.5) / 4)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match='must be None or one of'):
        fsp_matrix(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2),
                   pool='bilinear')
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        fsp_matrix(torch.ones(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match='one batch size'):
        fsp_matrix(torch.ones(2, 1, 2, 2), torch.ones(3, 1, 2, 2))

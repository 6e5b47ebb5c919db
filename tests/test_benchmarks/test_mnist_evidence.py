"""Statistics shared by the evidence benchmarks (``mnist_evidence``)."""
import math

import pytest

from utils.benchmarks import load_benchmark

me = load_benchmark('mnist_evidence')


@pytest.mark.parametrize('df, expected', [(1, 12.71), (4, 2.78), (9, 2.26),
                                          (10, 2.23), (22, 2.09),
                                          (35, 2.04), (500, 1.96)])
def test_t95_is_the_students_t_quantile_or_a_wider_one(df, expected):
    # Between listed degrees of freedom the next smaller one is taken, so
    # an interval is never narrower than the exact one.
    assert me.t95(df) == expected


def test_t95_refuses_zero_degrees_of_freedom():
    with pytest.raises(ValueError, match='df >= 1, got 0'):
        me.t95(0)


def test_mean_ci_half_width_uses_t_not_the_normal_quantile():
    values = [float(v) for v in range(11)]  # n = 11, df = 10
    mean, std, half = me.mean_ci(values)
    assert mean == 5.0
    assert std == pytest.approx(math.sqrt(11.0))
    assert half == pytest.approx(2.23 * std / math.sqrt(11))


def test_mean_ci_of_one_value_has_no_spread():
    mean, std, half = me.mean_ci([3.5])
    assert mean == 3.5 and math.isnan(std) and math.isnan(half)

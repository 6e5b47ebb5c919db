"""TeacherOutputCache: rows stored per sample, served once complete, kept
on disk under a key, and its limits."""
import pytest
import torch

from fitnets_mm.models.utils import TeacherOutputCache


def _compute(calls, idx):
    def compute():
        calls.append(list(idx))
        return {'x': torch.tensor(idx, dtype=torch.float32)[:, None] * 2}
    return compute


def test_serves_stored_rows_and_computes_missing_ones():
    cache, calls = TeacherOutputCache(4), []
    cache.set_batch([0, 1])
    out = cache.outputs('kd', _compute(calls, [0, 1]))
    assert out['x'].tolist() == [[0.], [2.]] and calls == [[0, 1]]
    cache.set_batch([1, 0])
    assert cache.outputs('kd', _compute(calls, [1, 0]))['x'].tolist() == \
        [[2.], [0.]]
    assert len(calls) == 1  # served
    cache.set_batch([1, 2])  # 2 is missing: the teacher runs
    cache.outputs('kd', _compute(calls, [1, 2]))
    assert len(calls) == 2 and not cache.complete('kd')
    cache.set_batch([3])
    cache.outputs('kd', _compute(calls, [3]))
    assert cache.complete('kd') and dict(cache.hits) == {'kd': 1}
    cache.set_batch(None)  # outside training: always computed
    cache.outputs('kd', _compute(calls, [0]))
    assert len(calls) == 4


def test_save_and_load_under_a_key(tmp_path):
    cache = TeacherOutputCache(2)
    cache.set_batch([0, 1])
    cache.outputs('hint', _compute([], [0, 1]))
    path = str(tmp_path / 'c-hint.pth')
    cache.save('hint', path, dict(digest='a'))
    other = TeacherOutputCache(2)
    assert not other.load('hint', path, dict(digest='b'))
    assert other.load('hint', path, dict(digest='a'))
    other.set_batch([1])
    assert other.outputs('hint', lambda: 1 / 0)['x'].tolist() == [[2.]]
    assert not TeacherOutputCache(3).load('hint', path, dict(digest='a'))


def test_limits():
    with pytest.raises(MemoryError, match='raise max_gb'):
        cache = TeacherOutputCache(1000, max_bytes=1000)
        cache.set_batch([0])
        cache.outputs('kd', lambda: {'x': torch.zeros(1, 10)})
    cache = TeacherOutputCache(4)
    cache.set_batch([0, 1])
    with pytest.raises(TypeError, match='one row per sample'):
        cache.outputs('kd', lambda: {'x': torch.zeros(3)})
    with pytest.raises(IndexError, match='out of range'):
        cache.set_batch([4])
    with pytest.raises(RuntimeError, match='not complete'):
        cache.save('kd', '/nonexistent/x.pth', {})

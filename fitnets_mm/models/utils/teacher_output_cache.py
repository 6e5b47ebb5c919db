"""The teacher's outputs per training sample, computed once and reused.

A frozen teacher run on data without random augmentation gives the same
outputs for a sample every epoch: stage 2 needs its logits (what its
recorders record), stage 1 its hint maps. :class:`TeacherOutputCache` keeps
them per sample (by the ``sample_idx`` of the data samples) as they are
first computed, serves them afterwards without running the teacher, and is
kept on disk by :class:`~fitnets_mm.engine.hooks.TeacherCacheHook`, which
chooses it in a config and keys it by the teacher's weights, the data and
the pipeline.

The distillers route every training forward of the teacher through
:func:`run_teacher`; without a cache (or outside a training iteration, e.g.
in validation) it simply runs the teacher under ``no_grad``.
"""
import os
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

__all__ = ['TeacherOutputCache', 'run_teacher']

#: The stages whose teacher outputs are cached.
STAGES = ('hint', 'kd')


class TeacherOutputCache:
    """Teacher outputs of every sample of one dataset, per stage.

    Each stage stores named tensors ``(num_samples, ...)`` and which rows
    are filled. :meth:`outputs` returns the rows of the current batch
    (:meth:`set_batch`) when all are filled, and otherwise runs the teacher
    and fills them.

    Args:
        num_samples (int): The number of samples of the dataset.
        max_bytes (int): The most bytes the stored outputs may take (in
            memory and on disk). Defaults to 4 GiB.
    """

    def __init__(self, num_samples: int, max_bytes: int = 4 << 30) -> None:
        if num_samples < 1:
            raise ValueError(
                f'`num_samples` must be >= 1, but got {num_samples}.')
        self.num_samples = num_samples
        self.max_bytes = max_bytes
        self.stores: Dict[str, Dict[str, torch.Tensor]] = {}
        self.filled: Dict[str, torch.Tensor] = {}
        self.indices: Optional[torch.Tensor] = None
        self.hits: Dict[str, int] = defaultdict(int)
        self.misses: Dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------ batches
    @property
    def active(self) -> bool:
        """Whether a training batch is set (outputs are served)."""
        return self.indices is not None

    def set_batch(self, indices: Optional[Sequence[int]]) -> None:
        """The ``sample_idx`` of each sample of the batch; None outside
        training iterations."""
        if indices is None:
            self.indices = None
            return
        idx = torch.as_tensor(list(indices), dtype=torch.long)
        if idx.numel() and (int(idx.min()) < 0
                            or int(idx.max()) >= self.num_samples):
            raise IndexError(
                f'sample_idx {idx.tolist()} out of range for a teacher cache '
                f'of {self.num_samples} samples.')
        self.indices = idx

    def complete(self, stage: str) -> bool:
        """Whether every sample's outputs of ``stage`` are stored."""
        return stage in self.filled and bool(self.filled[stage].all())

    def outputs(self, stage: str,
                compute: Callable[[], Dict[str, torch.Tensor]]
                ) -> Dict[str, torch.Tensor]:
        """The teacher outputs of the current batch for ``stage``.

        Args:
            stage (str): ``'hint'`` or ``'kd'``.
            compute (callable): Runs the teacher on the batch and returns
                its outputs as named tensors ``(batch, ...)``.

        Returns:
            dict: Named tensors ``(batch, ...)``.
        """
        idx = self.indices
        if idx is None:
            return compute()
        if stage in self.filled and bool(self.filled[stage][idx].all()):
            self.hits[stage] += 1
            return {k: v[idx] for k, v in self.stores[stage].items()}
        out = compute()
        self._store(stage, idx, out)
        self.misses[stage] += 1
        return out

    def _store(self, stage: str, idx: torch.Tensor,
               out: Dict[str, torch.Tensor]) -> None:
        if stage not in self.stores:
            store = {}
            size = 0
            for name, value in out.items():
                if not isinstance(value, torch.Tensor) or \
                        value.shape[:1] != idx.shape:
                    raise TypeError(
                        f'The teacher cache stores tensors with one row per '
                        f'sample, but the teacher output {name!r} of stage '
                        f'{stage!r} is '
                        f'{getattr(value, "shape", type(value).__name__)} '
                        f'for a batch of {len(idx)}.')
                shape = (self.num_samples, ) + tuple(value.shape[1:])
                size += value[:1].numel() * value.element_size() * \
                    self.num_samples
                store[name] = torch.empty(shape, dtype=value.dtype)
            if size + self.nbytes() > self.max_bytes:
                raise MemoryError(
                    f'The teacher outputs of stage {stage!r} '
                    f'({sorted(out)}) take {size / 2**30:.2f} GiB for '
                    f'{self.num_samples} samples, more than max_gb='
                    f'{self.max_bytes / 2**30:.2f}; raise max_gb or drop '
                    'the cache.')
            self.stores[stage] = store
            self.filled[stage] = torch.zeros(self.num_samples,
                                             dtype=torch.bool)
        store = self.stores[stage]
        if set(out) != set(store):
            raise KeyError(f'Teacher outputs of stage {stage!r} changed names: '
                           f'{sorted(out)}, stored {sorted(store)}.')
        for name, value in out.items():
            store[name][idx] = value.detach().to('cpu', store[name].dtype)
        self.filled[stage][idx] = True

    def nbytes(self) -> int:
        """Bytes of the stored outputs."""
        return sum(v.numel() * v.element_size()
                   for store in self.stores.values() for v in store.values())

    # ---------------------------------------------------------------- disk
    def save(self, stage: str, path: str, key: Dict[str, Any]) -> None:
        """Write the complete ``stage`` to ``path`` (atomically)."""
        if not self.complete(stage):
            raise RuntimeError(f'Stage {stage!r} of the teacher cache is not '
                               'complete; nothing to save.')
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        tmp = f'{path}.tmp{os.getpid()}'
        torch.save(dict(key=key, num_samples=self.num_samples,
                        outputs=self.stores[stage]), tmp)
        os.replace(tmp, path)

    def load(self, stage: str, path: str, key: Dict[str, Any]) -> bool:
        """Read ``stage`` from ``path`` if it holds outputs for ``key``;
        returns whether it did."""
        if not os.path.isfile(path):
            return False
        saved = torch.load(path, map_location='cpu', weights_only=True)
        if saved.get('key') != key or \
                saved.get('num_samples') != self.num_samples:
            return False
        self.stores[stage] = saved['outputs']
        self.filled[stage] = torch.ones(self.num_samples, dtype=torch.bool)
        return True


def _records(recorders: Dict[str, Any]) -> Dict[str, torch.Tensor]:
    """The records of MMRazor recorders as named tensors."""
    out = {}
    for name, recorder in recorders.items():
        for i, record in enumerate(recorder.data_buffer):
            out[f'{name}#{i}'] = record
    return out


def _replay(recorders: Dict[str, Any],
            records: Dict[str, torch.Tensor]) -> None:
    """Put ``records`` back into the recorders' buffers."""
    per_name: Dict[str, List] = defaultdict(list)
    for key in sorted(records, key=lambda k: int(k.rpartition('#')[2])):
        per_name[key.rpartition('#')[0]].append(records[key])
    for name, recorder in recorders.items():
        buffer = recorder.data_buffer
        del buffer[:]
        buffer.extend(per_name.get(name, []))


def run_teacher(model: Any, stage: str, forward: Callable[[], Any]) -> Any:
    """Run the frozen teacher's forward of ``stage``, or serve its outputs
    from ``model.teacher_cache`` in a training iteration.

    Args:
        model (FitNetsDistill): The algorithm; its ``teacher_cache``
            attribute (set by ``TeacherCacheHook``) may be absent or None.
        stage (str): ``'hint'``: ``forward`` returns the hint maps as named
            tensors, and they are returned. ``'kd'``: ``forward`` runs the
            teacher inside the distiller's teacher recorders, which hold its
            outputs afterwards (returns None).
        forward (callable): The teacher's forward.
    """
    if stage not in STAGES:
        raise ValueError(f'stage must be one of {STAGES}, but got {stage!r}.')
    cache = getattr(model, 'teacher_cache', None)
    with torch.no_grad():
        if cache is None or not cache.active:
            return forward()
        if stage == 'hint':
            return cache.outputs(stage, forward)
        recorders = model.distiller.teacher_recorders.recorders

        def compute() -> Dict[str, torch.Tensor]:
            forward()
            return _records(recorders)

        _replay(recorders, cache.outputs(stage, compute))
        return None

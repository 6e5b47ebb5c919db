"""A hook that splits a Runner's training into phases, for
``benchmarks/time_to_student.py``.

:class:`PhaseTimerHook` (registered in mmengine's ``HOOKS``; a leaf config
adds it with ``custom_imports=dict(imports=['phase_timer'])`` and
``benchmarks/`` on ``PYTHONPATH``) wraps, when the training starts, the
model's ``train_step``, the validation loop's ``run`` and every method of
every other hook, and adds up the wall and CPU time (``time.process_time``,
this process only) spent in each:

* ``step``: ``model.train_step`` (forward, backward, optimizer);
* ``validation``: the validation loop and the stage-1 hint validation
  (``HintValidationHook``);
* ``logging``: ``LoggerHook`` (and ``IterTimerHook``, which times for it);
* ``checkpointing``: ``CheckpointHook`` and ``HintStageHook`` (which saves the
  end of stage 1);
* ``other hooks``: the rest (max-norm, the lambda schedule, the finiteness
  guard, the samplers' seeds, ...);
* ``start-up``: from the launch (``PHASE_TIMER_T0``) to ``before_train``
  (the interpreter, imports, config,
  building the model, datasets and loaders, loading the teacher);
* ``data and loop``: the rest of the training loop (fetching batches, moving
  them, the loop's own code).

At ``after_run`` it writes ``phase_times.json`` into the work dir.
"""
import functools
import json
import os
import time
from typing import Any, Callable, Dict, List

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['PhaseTimerHook', 'PHASES', 'START_ENV']

PHASES = ('start-up', 'step', 'data and loop', 'validation', 'logging',
          'checkpointing', 'other hooks', 'shut-down')

_KIND = {
    'LoggerHook': 'logging',
    'IterTimerHook': 'logging',
    'CheckpointHook': 'checkpointing',
    'HintStageHook': 'checkpointing',
    'HintValidationHook': 'validation',
}


#: Set by the launcher to ``time.time()`` just before it starts the process.
START_ENV = 'PHASE_TIMER_T0'


def _process_start() -> float:
    """The wall-clock time this process was launched (``PHASE_TIMER_T0``)
    or, without it, started (``/proc/self/stat``)."""
    if os.environ.get(START_ENV):
        return float(os.environ[START_ENV])
    with open('/proc/self/stat') as f:
        ticks = int(f.read().rsplit(')', 1)[1].split()[19])
    with open('/proc/stat') as f:
        boot = next(int(line.split()[1]) for line in f
                    if line.startswith('btime'))
    return boot + ticks / os.sysconf('SC_CLK_TCK')


@HOOKS.register_module()
class PhaseTimerHook(Hook):
    """Add up the wall and CPU time of each phase of a training run."""

    priority = 'HIGHEST'

    def __init__(self) -> None:
        self.wall: Dict[str, float] = {k: 0.0 for k in PHASES}
        self.cpu: Dict[str, float] = {k: 0.0 for k in PHASES}
        self._stack: List[List[float]] = []
        self._marks: Dict[str, float] = {}
        self.iters = 0

    def _timed(self, fn: Callable, kind: str) -> Callable:
        """``fn``, its time added to ``kind``; a timed call inside another
        (the best checkpoint saved at the end of a validation) counts for
        its own kind and not for the outer one."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # [wall start, cpu start, wall of inner calls, cpu of inner]
            frame = [time.perf_counter(), time.process_time(), 0.0, 0.0]
            self._stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self._stack.pop()
                wall = time.perf_counter() - frame[0]
                cpu = time.process_time() - frame[1]
                self.wall[kind] += wall - frame[2]
                self.cpu[kind] += cpu - frame[3]
                if self._stack:
                    self._stack[-1][2] += wall
                    self._stack[-1][3] += cpu

        return wrapper

    def before_train(self, runner: Any) -> None:
        now_wall, now_cpu = time.time(), time.process_time()
        self.wall['start-up'] = now_wall - _process_start()
        self.cpu['start-up'] = now_cpu
        model = runner.model
        model.train_step = self._timed(model.train_step, 'step')
        val_loop = getattr(runner, '_val_loop', None)
        if val_loop is not None and not isinstance(val_loop, dict):
            val_loop.run = self._timed(val_loop.run, 'validation')
        hooks: List[Any] = [h for h in runner.hooks if h is not self]
        for hook in hooks:
            kind = _KIND.get(type(hook).__name__, 'other hooks')
            for name in Hook.__dict__:
                if name.startswith(('before_', 'after_')) and callable(
                        getattr(hook, name, None)):
                    setattr(hook, name, self._timed(getattr(hook, name),
                                                    kind))
        self._marks.update(train_wall=time.perf_counter(),
                           train_cpu=time.process_time())

    def after_train_iter(self, runner: Any, batch_idx: int,
                         data_batch: Any = None, outputs: Any = None) -> None:
        self.iters += 1

    def after_train(self, runner: Any) -> None:
        train_wall = time.perf_counter() - self._marks['train_wall']
        train_cpu = time.process_time() - self._marks['train_cpu']
        inside = ('step', 'validation', 'logging', 'checkpointing',
                  'other hooks')
        self.wall['data and loop'] = train_wall - sum(
            self.wall[k] for k in inside)
        self.cpu['data and loop'] = train_cpu - sum(self.cpu[k]
                                                     for k in inside)
        self._marks.update(end_wall=time.perf_counter(),
                           end_cpu=time.process_time())

    def after_run(self, runner: Any) -> None:
        if 'end_wall' in self._marks:
            self.wall['shut-down'] = (time.perf_counter() -
                                      self._marks['end_wall'])
            self.cpu['shut-down'] = (time.process_time() -
                                     self._marks['end_cpu'])
        with open(os.path.join(runner.work_dir, 'phase_times.json'),
                  'w') as f:
            json.dump(dict(wall=self.wall, cpu=self.cpu, iters=self.iters),
                      f, indent=1)

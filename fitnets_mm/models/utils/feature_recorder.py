"""Record the outputs of named submodules, optionally stopping the forward.

FitNets' first stage needs the output of the student's guided layer and the
teacher's hint layer, and nothing after them. :class:`FeatureRecorder`
attaches forward hooks to the named modules and, with ``stop=True``, ends the
forward pass by raising :class:`StopForward` as soon as every named module
has produced its output, so the layers past them are never run. This works
for any model and any module path, without knowing its ``forward``.

The hooks are registered once, on first use, and stay registered (inactive
outside the recorder's context) until the recorder is garbage-collected or
:meth:`FeatureRecorder.remove` is called: registering and removing them on
every step would cost a graph break per step under ``torch.compile``.
"""
import functools
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from torch import nn

from .module_paths import get_module

__all__ = ['FeatureRecorder', 'StopForward']


class StopForward(Exception):
    """Raised by a hook to end a forward pass early; caught by the recorder."""


class FeatureRecorder:
    """Context manager recording the outputs of modules given by path.

    Each module's first output in the pass is kept (a module called twice,
    such as a shared activation, is recorded once).

    Args:
        model (nn.Module): The model whose submodules are recorded.
        paths (Sequence[str]): Dotted module paths.
        stop (bool): Whether to end the forward pass once all paths have
            been recorded. Defaults to False.
        role (str): What the paths name, for error messages.
            Defaults to ``'module'``.

    Examples:
        >>> recorder = FeatureRecorder(model, ['backbone.layer2'], stop=True)
        >>> feats = recorder.run(lambda: model(x, mode='tensor'))
        >>> feats['backbone.layer2'].shape
    """

    def __init__(self,
                 model: nn.Module,
                 paths: Sequence[str],
                 stop: bool = False,
                 role: str = 'module') -> None:
        self.paths: List[str] = list(dict.fromkeys(paths))
        self.modules = [get_module(model, p, role) for p in self.paths]
        self.stop = stop
        self.outputs: Dict[str, Any] = {}
        self._active = False
        self._handles: list = []
        self._slot: Optional[_Slot] = None
        self._finalizer: Optional[weakref.finalize] = None

    def _register(self) -> None:
        """Register the hooks once. They hold only a weak reference to the
        recorder, and are removed when it is collected."""
        if self._handles:
            return
        self._slot = _Slot(self)
        self._handles = [
            m.register_forward_hook(functools.partial(_record, self._slot, p))
            for p, m in zip(self.paths, self.modules)
        ]
        self._finalizer = weakref.finalize(self, _remove_handles,
                                           list(self._handles))

    def __getstate__(self) -> Dict[str, Any]:
        # copies (``copy.deepcopy`` of the model) and pickles keep the hooks,
        # which the copied modules carry; see ``__setstate__``
        state = dict(self.__dict__, outputs={}, _active=False)
        state.pop('_finalizer', None)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._finalizer = None
        if self._handles:
            self._slot.ref = weakref.ref(self)  # the copied hooks' slot
            self._finalizer = weakref.finalize(self, _remove_handles,
                                               list(self._handles))

    def remove(self) -> None:
        """Detach the hooks from the model now (they are re-registered on
        the next use)."""
        if self._finalizer is not None:
            self._finalizer()
        self._handles, self._finalizer = [], None

    def __enter__(self) -> 'FeatureRecorder':
        self._register()
        self.outputs = {}
        self._active = True
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self._active = False
        return exc_type is StopForward

    def run(self, forward: Callable[[], Any]) -> Dict[str, Any]:
        """Call ``forward`` under the recorder and return the outputs.

        Raises:
            RuntimeError: The forward finished without running some module.
        """
        with self:
            forward()
        # hand the outputs over: the recorder keeps no activations between
        # steps (they would hold the autograd graph's memory)
        outputs, self.outputs = self.outputs, {}
        missing = [p for p in self.paths if p not in outputs]
        if missing:
            raise RuntimeError(
                f'The modules {missing} were not called during the forward '
                'pass; name modules that the forward actually runs.')
        return outputs


class _Slot:
    """A weak reference to a recorder that a deep copy can repoint."""

    def __init__(self, recorder: FeatureRecorder) -> None:
        self.ref = weakref.ref(recorder)

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.ref = _dead


def _dead() -> None:
    return None


def _record(slot: _Slot, path: str, module: nn.Module, inputs: Any,
            output: Any) -> None:
    """The forward hook: keep the first output of ``path`` while the
    recorder is active, and stop the pass once all paths are recorded."""
    recorder = slot.ref()
    if recorder is None or not recorder._active:
        return
    if path not in recorder.outputs:
        recorder.outputs[path] = output
    if recorder.stop and len(recorder.outputs) == len(recorder.paths):
        raise StopForward


def _remove_handles(handles: List) -> None:
    for handle in handles:
        handle.remove()


def tensor_shape(output: Any, path: str) -> torch.Size:
    """The shape of a recorded output, which must be a single tensor."""
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f'The output of {path!r} is a {type(output).__name__}, but a hint '
            'or guided layer must output one tensor; name a submodule that '
            'does (for a backbone returning a tuple, name one of its stages).')
    return output.shape

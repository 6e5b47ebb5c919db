"""Record the outputs of named submodules, optionally stopping the forward.

FitNets' first stage needs the output of the student's guided layer and the
teacher's hint layer, and nothing after them. :class:`FeatureRecorder`
attaches forward hooks to the named modules and, with ``stop=True``, ends the
forward pass by raising :class:`StopForward` as soon as every named module
has produced its output, so the layers past them are never run. This works
for any model and any module path, without knowing its ``forward``.
"""
from typing import Any, Callable, Dict, List, Sequence

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
        self._handles: list = []

    def _hook(self, path: str) -> Callable:

        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if path not in self.outputs:
                self.outputs[path] = output
            if self.stop and len(self.outputs) == len(self.paths):
                raise StopForward

        return hook

    def __enter__(self) -> 'FeatureRecorder':
        self.outputs = {}
        self._handles = [
            m.register_forward_hook(self._hook(p))
            for p, m in zip(self.paths, self.modules)
        ]
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return exc_type is StopForward

    def run(self, forward: Callable[[], Any]) -> Dict[str, Any]:
        """Call ``forward`` under the recorder and return the outputs.

        Raises:
            RuntimeError: The forward finished without running some module.
        """
        with self:
            forward()
        missing = [p for p in self.paths if p not in self.outputs]
        if missing:
            raise RuntimeError(
                f'The modules {missing} were not called during the forward '
                'pass; name modules that the forward actually runs.')
        return dict(self.outputs)


def tensor_shape(output: Any, path: str) -> torch.Size:
    """The shape of a recorded output, which must be a single tensor."""
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f'The output of {path!r} is a {type(output).__name__}, but a hint '
            'or guided layer must output one tensor; name a submodule that '
            'does (for a backbone returning a tuple, name one of its stages).')
    return output.shape

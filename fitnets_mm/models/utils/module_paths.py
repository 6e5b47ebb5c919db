"""Find submodules by dotted path, with errors that suggest real paths."""
import difflib
from typing import List

from torch import nn

__all__ = ['get_module', 'module_paths']


def module_paths(model: nn.Module) -> List[str]:
    """All dotted submodule paths of ``model`` (the root excluded)."""
    return [name for name, _ in model.named_modules() if name]


def get_module(model: nn.Module, path: str, role: str = 'module') -> nn.Module:
    """Return the submodule of ``model`` at dotted ``path``.

    Args:
        model (nn.Module): The model to search.
        path (str): A dotted path such as ``'backbone.layer2'``.
        role (str): What the path names, for the error message (for
            example ``'student guided layer'``). Defaults to ``'module'``.

    Returns:
        nn.Module: The submodule.

    Raises:
        KeyError: ``path`` is not a submodule of ``model``; the message
            lists the closest existing paths.
    """
    if not isinstance(path, str) or not path:
        raise KeyError(f'The {role} must be a non-empty dotted module path '
                       f'such as "backbone.layer2", but got {path!r}.')
    modules = dict(model.named_modules())
    if path in modules:
        return modules[path]
    names = module_paths(model)
    close = difflib.get_close_matches(path, names, n=5, cutoff=0.5)
    if not close:
        # Fall back to the paths under the longest existing prefix.
        prefix = path
        while prefix and prefix not in modules:
            prefix = prefix.rpartition('.')[0]
        close = [n for n in names
                 if n.startswith(prefix + '.') and
                 n.count('.') == prefix.count('.') + 1][:5] if prefix else \
            [n for n in names if '.' not in n][:5]
    raise KeyError(
        f'The {role} {path!r} is not a module of '
        f'{type(model).__name__}. Closest existing paths: {close}.')

"""Build a distillation algorithm from a config, for the analysis tools."""
from typing import Optional, Sequence, Union

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from torch import nn

__all__ = ['build_algorithm']


def build_algorithm(config: Union[str, Config],
                    cfg_options: Optional[dict] = None,
                    checkpoint: Optional[str] = None,
                    input_shape: Optional[Sequence[int]] = None) -> nn.Module:
    """Build the config's model in eval mode, without downloading weights.

    Note:
        ``teacher_ckpt`` is not loaded and a teacher given by ``cfg_path`` is
        built with ``pretrained=False``: the inspector needs no weights, and
        a FitNets ``checkpoint`` holds the teacher's own.

    Args:
        config (str | Config): The config file or object.
        cfg_options (dict, optional): Overrides merged into the config, as
            ``--cfg-options`` gives them. Defaults to None.
        checkpoint (str, optional): A checkpoint of the whole algorithm,
            loaded strictly. Defaults to None.
        input_shape (Sequence[int], optional): Replaces the model's
            ``input_shape`` (shape of one input) where it has one, as
            :class:`FitNetsDistill` does. Defaults to None.

    Returns:
        nn.Module: The algorithm, in eval mode, on the CPU.
    """
    cfg = Config.fromfile(config) if not isinstance(config, Config) else \
        config.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    import fitnets_mm  # noqa: F401  (registers FitNetsDistill & co.)
    from mmrazor.registry import MODELS

    model_cfg = cfg.model
    if 'teacher_ckpt' in model_cfg:
        model_cfg.teacher_ckpt = None
    teacher = model_cfg.get('teacher')
    if isinstance(teacher, dict) and 'cfg_path' in teacher:
        teacher.pretrained = False
    takes_shape = 'input_shape' in model_cfg or str(
        model_cfg.get('type', '')).endswith('FitNetsDistill')
    if input_shape is not None and takes_shape:
        model_cfg.input_shape = tuple(int(s) for s in input_shape)
    model = MODELS.build(model_cfg)
    if checkpoint:
        load_checkpoint(
            model,
            checkpoint,
            map_location='cpu',
            strict=True,
            revise_keys=[(r'^module\.', '')])
    # MMRazor's ``SingleTeacherDistill.train`` returns None, so no chaining.
    model.eval()
    return model

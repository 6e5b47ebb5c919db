"""A plain mmengine run, with no fitnets_mm model, config or hook in it.

Run as a script by ``tests/test_compat/test_plain_mmengine_run.py``, once with
``--import-fitnets`` and once without, each in a fresh interpreter:

    python tests/utils/plain_mmengine_run.py WORK_DIR --epochs 2
    python tests/utils/plain_mmengine_run.py WORK_DIR --epochs 3 --resume

It trains a tiny regressor (a linear layer and a BatchNorm, so that there are
buffers) with SGD and momentum for ``--epochs`` epochs through mmengine's
Runner, validates and saves a checkpoint after every epoch
(``max_keep_ckpts=1``, so an old checkpoint is also removed), and with
``--resume`` resumes from the work dir (mmengine's ``resume=True``: the
``last_checkpoint`` file). It prints one JSON line with what the run
produced.
"""
import argparse
import json
import os
import os.path as osp
import re
from typing import Any, Dict, List, Sequence

PARSER = argparse.ArgumentParser(description=__doc__.split('\n')[0])
PARSER.add_argument('work_dir')
PARSER.add_argument('--epochs', type=int, required=True)
PARSER.add_argument('--resume', action='store_true')
PARSER.add_argument('--import-fitnets', action='store_true')


def main() -> None:
    args = PARSER.parse_args()
    if args.import_fitnets:
        import fitnets_mm  # noqa: F401
    import torch
    from mmengine.evaluator import BaseMetric
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from torch import nn
    from torch.utils.data import Dataset

    class Regressor(BaseModel):

        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4),
                                     nn.ReLU(), nn.Linear(4, 1))

        def forward(self, inputs: torch.Tensor, labels: torch.Tensor,
                    mode: str = 'tensor') -> Any:
            out = self.net(inputs).squeeze(1)
            if mode == 'loss':
                return dict(loss=((out - labels)**2).mean())
            if mode == 'predict':
                return list(zip(out, labels))
            return out

    class Points(Dataset):

        def __len__(self) -> int:
            return 16

        def __getitem__(self, i: int) -> Dict[str, torch.Tensor]:
            x = torch.tensor([i / 16, (i % 4) / 4, 1.0])
            return dict(inputs=x, labels=x[0] * 2 - x[1])

    class MSE(BaseMetric):

        def process(self, data_batch: Any, data_samples: Sequence) -> None:
            self.results.extend(
                float((out - y)**2) for out, y in data_samples)

        def compute_metrics(self, results: List[float]) -> Dict[str, float]:
            return dict(mse=sum(results) / len(results))

    torch.manual_seed(0)  # the model is built before the Runner seeds
    loader = dict(dataset=Points(), batch_size=4, num_workers=0,
                  collate_fn=dict(type='default_collate'))
    runner = Runner(
        model=Regressor(),
        work_dir=args.work_dir,
        train_dataloader=dict(
            loader, sampler=dict(type='DefaultSampler', shuffle=True)),
        val_dataloader=dict(
            loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=[MSE()],
        train_cfg=dict(by_epoch=True, max_epochs=args.epochs,
                       val_interval=1),
        val_cfg=dict(),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1,
                            max_keep_ckpts=1)),
        randomness=dict(seed=0),
        resume=args.resume,
        default_scope='mmengine')
    runner.train()
    print(json.dumps(_report(runner, args.work_dir)))


def _report(runner: Any, work_dir: str) -> Dict[str, Any]:
    """What the run left: weights, buffers, optimizer state, logged values,
    files and the checkpoint's layout (times and dates left out)."""
    import torch
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt_name = f.read().strip()
    ckpt = torch.load(ckpt_name, map_location='cpu', weights_only=False)
    files = sorted(
        re.sub(r'\d{8}_\d{6}', 'TIME', osp.relpath(osp.join(d, f), work_dir))
        for d, _, names in os.walk(work_dir) for f in names)
    log_dir = runner.log_dir
    with open(osp.join(log_dir, 'vis_data', 'scalars.json')) as f:
        scalars = [{
            k: v
            for k, v in json.loads(line).items()
            if k not in ('time', 'data_time', 'eta', 'memory')
        } for line in f]
    with open(osp.join(log_dir, osp.basename(log_dir) + '.log')) as f:
        log = f.read()
    return dict(
        state=[(k, v.tolist()) for k, v in runner.model.state_dict().items()],
        checkpoint_state=[(k, v.tolist())
                          for k, v in ckpt['state_dict'].items()],
        momentum=[
            s['momentum_buffer'].tolist()
            for s in ckpt['optimizer']['state'].values()
        ],
        checkpoint_keys=sorted(ckpt),
        meta=dict(epoch=ckpt['meta']['epoch'], iter=ckpt['meta']['iter']),
        hub_scalars=sorted(ckpt['message_hub']['log_scalars']),
        last_checkpoint=osp.relpath(ckpt_name, work_dir),
        files=files,
        scalars=scalars,
        announced=re.findall(r'(fitnets_mm\.compat\.\w+):', log))


if __name__ == '__main__':
    main()

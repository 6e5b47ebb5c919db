#!/usr/bin/env bash
# Train with GPUS processes per node through torchrun:
#   bash tools/dist_train.sh CONFIG GPUS [train.py arguments]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# On a CPU-only machine GPUS is the number of processes; fitnets_mm makes
# mmengine use the gloo backend there.
set -e

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

# torchrun, through tools/dist_run.py (one line, not a traceback, on
# Ctrl-C). exec: the launcher is this process, so killing it (kill -9
# included) ends the ranks too (each rank exits with its parent).
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec python "$(dirname "$0")/dist_run.py" \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"

#!/usr/bin/env bash
# Test a checkpoint with GPUS processes per node through torchrun:
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py arguments]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
set -e

CONFIG=$1
CHECKPOINT=$2
GPUS=$3
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
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"

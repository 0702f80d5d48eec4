#!/bin/bash
# A rank killed mid-run (SIGKILL: no handler, no message of its own) makes the job end within
# a bounded time with an error, and the last checkpoint on disk is intact: a 2-rank gpt run
# saving every 2 iterations is killed on one rank once a checkpoint exists, mpiexec must exit
# non-zero within 60 s, and the checkpoint must load whole (model, optimizer and metadata)
# with the iteration it names.
# Usage: check_killed_rank.sh GPT MPIEXEC NP_FLAG DATA WORK_DIR
set -u
gpt=$1 mpiexec=$2 np_flag=$3 data=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
checkpoint="$work/run.safetensors"
model=(--data "$data" --n-layer 1 --n-head 2 --n-embd 32 --block-size 16 --batch-size 6
       --eval-iters 2 --warmup-iters 5 --eval-interval 2 --no-full-eval)

"$mpiexec" "$np_flag" 2 "$gpt" "${model[@]}" --max-iters 1000000 --save "$checkpoint" \
  >"$work/out.txt" 2>"$work/err.txt" &
launcher=$!
for _ in $(seq 1200); do  # up to 120 s for the first checkpoint
  [ -s "$checkpoint" ] && break
  sleep 0.1
done
if [ ! -s "$checkpoint" ]; then
  echo "no checkpoint after 120 s"; cat "$work/out.txt" "$work/err.txt"
  kill -KILL "$launcher"; exit 1
fi
sleep 1  # a few more checkpoints, so the kill may well come while one is written
# The ranks are the processes with this run's arguments other than mpiexec itself.
victim=$(pgrep -f -- "--save $checkpoint" | grep -vx "$launcher" | tail -n 1)
if [ -z "$victim" ] || [ "$victim" = "$launcher" ]; then
  echo "no rank process found"; kill -KILL "$launcher"; exit 1
fi
echo "killing rank process $victim with SIGKILL"
kill -KILL "$victim"
killed_at=$(date +%s)
for _ in $(seq 600); do  # the others must be gone within 60 s
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$launcher" 2>/dev/null; then
  echo "the job was still running 60 s after a rank was killed"
  pkill -KILL -f -- "--save $checkpoint"; kill -KILL "$launcher"; exit 1
fi
wait "$launcher"
status=$?
echo "mpiexec exited with $status, $(( $(date +%s) - killed_at )) s after the kill"
cat "$work/out.txt" "$work/err.txt"
if [ "$status" -eq 0 ]; then echo "the job ended with success after a rank was killed"; exit 1; fi
if pgrep -f -- "--save $checkpoint" >/dev/null; then
  echo "a rank outlived the job"; pkill -KILL -f -- "--save $checkpoint"; exit 1
fi

# The checkpoint on disk loads whole: resuming reads the model, the optimizer, every stream's
# state; with --max-iters 0 it trains no further and exits cleanly.
if ! "$gpt" "${model[@]}" --gradient-accumulation-steps 2 --max-iters 0 \
     --resume "$checkpoint" >"$work/resume.txt" 2>&1; then
  echo "the last checkpoint does not load:"; cat "$work/resume.txt"; exit 1
fi
cat "$work/resume.txt"
grep -Eq "^resumed from .* at iteration [0-9]+$" "$work/resume.txt" || {
  echo "no 'resumed from' line"; exit 1; }
# A rank killed while writing leaves its hidden temporary file (.xgrad-*.tmp) beside the
# checkpoint, which it cannot remove; the checkpoint itself was only ever replaced whole.
ls -A "$work"
echo "PASS"

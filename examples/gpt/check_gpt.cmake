# The gpt example's tests, run with cmake -P and: GPT (the program), DATA (the text),
# WORK_DIR (for checkpoints), MODE and, for MODE pytorch, PYTHON and SCRIPT.
#   data:    the committed Tiny Shakespeare copy has the size and sha256 of its source.
#   smoke:   a tiny model trains for 200 iterations: every evaluation line, finite losses, the
#            validation loss falls below a unigram model's (about 3.3), the time and full-split lines, and a sample of 40 characters.
#   resume:  a run of 20 iterations saved and resumed up to 40 prints exactly what an
#            uninterrupted run of 40 prints from iteration 21 on (bit-identical training).
#   sample:  sampling from the checkpoint alone (--sample-only, no data) gives the characters a
#            run that trained the model gave, with the same seed and prompt.
#   pytorch: check_pytorch.py loads the checkpoint into nanoGPT's architecture written in
#            PyTorch and compares logits and loss on a fixed batch.
#   finetune: the fine-tuning demo in small (FORTUNES, the fortunes package's cookie file):
#            pretrain on Tiny Shakespeare, then --init-from that checkpoint on the cookie file
#            with Tiny Shakespeare kept for evaluation (budget 0), two --freeze globs (one
#            naming a tied weight); the characters outside the vocabulary are counted and map to
#            the reserved id, the frozen tensors end where they started, and the cookie file's
#            validation loss falls.
#   mixture: two sources with epoch budgets: the mixture's plan and the windows drawn are
#            printed, and a run saved at 20 and resumed to 40 prints what the uninterrupted one
#            does (the mixture's state is in the checkpoint).
cmake_minimum_required(VERSION 3.21)

set(number "[0-9]+\\.[0-9]+")
# A small model on the full text: 1 layer, 2 heads, width 32, block 16.
set(tiny_model --n-layer 1 --n-head 2 --n-embd 32 --block-size 16 --batch-size 16 --eval-iters 8
               --warmup-iters 5 --learning-rate 3e-3)
set(tiny --data "${DATA}" ${tiny_model})

function(run_gpt out)
  execute_process(COMMAND "${GPT}" ${ARGN}
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  message("gpt ${ARGN}\n${output}${errors}")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "gpt exited with ${result}")
  endif()
  set(${out} "${output}" PARENT_SCOPE)
endfunction()

# The lines of `text` from the first that starts with `from` on.
function(lines_from out text from)
  string(FIND "${text}" "\n${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "no line starts with '${from}' in:\n${text}")
  endif()
  string(SUBSTRING "${text}" ${at} -1 rest)
  set(${out} "${rest}" PARENT_SCOPE)
endfunction()

# A resumed run (`second`) must print from "step 30:" on exactly what the uninterrupted one
# (`whole`) prints; the time differs, everything else must not.
function(expect_resumed_as_whole whole second what)
  lines_from(expected "${whole}" "step 30:")
  lines_from(got "${second}" "step 30:")
  string(REGEX REPLACE "\ntime per iteration: [^\n]*" "" expected "${expected}")
  string(REGEX REPLACE "\ntime per iteration: [^\n]*" "" got "${got}")
  if(NOT got STREQUAL expected)
    message(FATAL_ERROR "the resumed ${what} printed\n${got}\nwhere the uninterrupted one "
                        "printed\n${expected}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "data")
  file(SIZE "${DATA}" size)
  file(SHA256 "${DATA}" sha)
  if(NOT size EQUAL 1115394 OR
     NOT sha STREQUAL "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")
    message(FATAL_ERROR "${DATA}: ${size} bytes, sha256 ${sha}; not Tiny Shakespeare")
  endif()
elseif(MODE STREQUAL "smoke")
  run_gpt(out ${tiny} --max-iters 200 --eval-interval 100 --lr-decay-iters 200 --sample 40)
  if(NOT out MATCHES ": 1115394 characters, vocabulary of 65, 1003854 for training, 111540 for validation\n")
    message(FATAL_ERROR "gpt did not split Tiny Shakespeare as nanoGPT does")
  endif()
  foreach(step 0 100 200)
    if(NOT out MATCHES "\nstep ${step}: train (${number}), val (${number})\n")
      message(FATAL_ERROR "no finite 'step ${step}: train X, val Y' line")
    endif()
    set(val_${step} ${CMAKE_MATCH_2})
  endforeach()
  # A uniform guess over 65 characters is ln 65 = 4.17; the characters' frequencies alone
  # (a unigram model) give about 3.3: below 3.0 the model uses its context.
  if(NOT val_0 GREATER 4.0 OR NOT val_200 LESS 3.0)
    message(FATAL_ERROR "the validation loss went from ${val_0} to ${val_200}, not from above "
                        "4.0 to below 3.0")
  endif()
  if(NOT out MATCHES "\ntime per iteration: ${number} ms \\(201 iterations")
    message(FATAL_ERROR "no 'time per iteration' line for 61 iterations")
  endif()
  if(NOT out MATCHES "\nfinal val \\(full split\\): (${number})\n" OR
     NOT CMAKE_MATCH_1 LESS 3.0)
    message(FATAL_ERROR "no 'final val (full split): X' line with X below 3.0")
  endif()
  if(NOT out MATCHES "\nsample \\(40 characters after the prompt\\):\n\n(.*)\n$")
    message(FATAL_ERROR "no sample")
  endif()
  string(LENGTH "${CMAKE_MATCH_1}" length)
  if(NOT length EQUAL 40)
    message(FATAL_ERROR "the sample has ${length} characters, not 40")
  endif()
elseif(MODE STREQUAL "resume")
  set(checkpoint "${WORK_DIR}/gpt.safetensors")
  set(common ${tiny} --eval-interval 10 --lr-decay-iters 40 --dropout 0.1)
  run_gpt(whole ${common} --max-iters 40)
  run_gpt(first ${common} --max-iters 20 --save "${checkpoint}")
  run_gpt(second ${common} --max-iters 40 --resume "${checkpoint}")
  if(NOT second MATCHES "\nresumed from [^\n]* at iteration 21\n")
    message(FATAL_ERROR "gpt --resume did not resume at iteration 21")
  endif()
  expect_resumed_as_whole("${whole}" "${second}" run)
elseif(MODE STREQUAL "sample")
  set(checkpoint "${WORK_DIR}/gpt.safetensors")
  set(sample --sample 60 --prompt "ROMEO:" --top-k 10 --temperature 0.9)
  run_gpt(trained ${tiny} --max-iters 30 --eval-interval 30 --lr-decay-iters 30
          --save "${checkpoint}" ${sample})
  run_gpt(alone --sample-only --resume "${checkpoint}" --data "${WORK_DIR}/no-such-file" ${sample})
  lines_from(expected "${trained}" "sample (")
  lines_from(got "${alone}" "sample (")
  if(NOT got STREQUAL expected)
    message(FATAL_ERROR "sampling from the checkpoint gave\n${got}\nnot\n${expected}")
  endif()
elseif(MODE STREQUAL "pytorch")
  execute_process(COMMAND "${PYTHON}" -c "import torch"
    RESULT_VARIABLE no_torch OUTPUT_QUIET ERROR_QUIET)
  if(NOT no_torch EQUAL 0)
    message("SKIP: ${PYTHON} has no torch (Debian's python3-torch)")
    return()
  endif()
  set(checkpoint "${WORK_DIR}/gpt.safetensors")
  set(check "${WORK_DIR}/check.safetensors")
  foreach(bias --no-bias --bias)
    run_gpt(out ${tiny} ${bias} --max-iters 10 --eval-interval 10 --lr-decay-iters 10
            --save "${checkpoint}" --export-check "${check}")
    execute_process(COMMAND "${PYTHON}" "${SCRIPT}" "${checkpoint}" "${check}"
      RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
    message("${output}${errors}")
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "check_pytorch.py failed (${bias})")
    endif()
  endforeach()
elseif(MODE STREQUAL "finetune")
  if(NOT EXISTS "${FORTUNES}")
    message("SKIP: ${FORTUNES} is missing (scripts/setup.sh installs Debian's fortunes)")
    return()
  endif()
  set(pretrained "${WORK_DIR}/pretrained.safetensors")
  run_gpt(pre ${tiny} --max-iters 100 --eval-interval 100 --lr-decay-iters 100 --no-full-eval
          --save "${pretrained}")
  run_gpt(fine --data "${FORTUNES}" --data "${DATA}:0" --init-from "${pretrained}" ${tiny_model}
          --max-iters 60 --eval-interval 60 --lr-decay-iters 60
          --freeze "transformer.h.0.attn.*" --freeze lm_head.weight)
  foreach(line
      "\ninitialised from [^\n]*pretrained.safetensors \\(its iteration 101\\)"
      "\n  [0-9]+ of them \\([0-9]+ distinct characters\\) are outside the vocabulary of [^\n]*: each maps to the reserved id 65\n"
      "vocabulary of 66, "
      "\n--freeze 'transformer.h.0.attn.\\*': 2 tensors, 4096 values\n"
      "\n--freeze 'lm_head.weight': 1 tensors, 2112 values\n"
      "\ntransformer.wte.weight is tied to lm_head.weight \\(one tensor\\): frozen too\n"
      "\nfrozen: 3 tensors, every value as it started\n")
    if(NOT fine MATCHES "${line}")
      message(FATAL_ERROR "the fine-tuning run printed no line matching ${line}")
    endif()
  endforeach()
  get_filename_component(cookie "${FORTUNES}" NAME)
  foreach(when initial final)
    foreach(source ${cookie} tinyshakespeare.txt)
      if(NOT fine MATCHES "\n${when} val \\(full split\\) of ${source}: (${number})\n")
        message(FATAL_ERROR "no '${when} val (full split) of ${source}' line")
      endif()
      set(${when}_${source} ${CMAKE_MATCH_1})
    endforeach()
  endforeach()
  if(NOT final_${cookie} LESS initial_${cookie})
    message(FATAL_ERROR "fine-tuning on ${cookie} did not lower its validation loss: "
                        "${initial_${cookie}} before, ${final_${cookie}} after")
  endif()
elseif(MODE STREQUAL "mixture")
  # A second text with Tiny Shakespeare's characters: its first 20,000, in capitals.
  file(READ "${DATA}" head LIMIT 20000)
  string(TOUPPER "${head}" shouted)
  file(WRITE "${WORK_DIR}/shouted.txt" "${shouted}")
  set(checkpoint "${WORK_DIR}/gpt.safetensors")
  set(common --data "${DATA}:0.05" --data "${WORK_DIR}/shouted.txt:2" ${tiny_model}
             --eval-interval 10 --lr-decay-iters 40)
  run_gpt(whole ${common} --max-iters 40)
  run_gpt(first ${common} --max-iters 20 --save "${checkpoint}")
  run_gpt(second ${common} --max-iters 40 --resume "${checkpoint}")
  # 41 iterations of 16 windows of 16 tokens: 10,496 tokens; the budgets ask for
  # 0.05 x 1,003,854 + 2 x 18,000 = 86,193 (the training splits are 90% of each text).
  foreach(line
      "\nmixture over 41 iterations of 16 x 16 tokens: the budgets ask for 86193 training tokens, the run draws 10496 \\(budgets scaled by 0.122\\)\n"
      "\n  tinyshakespeare.txt: budget 0.05 epochs of 1003854 tokens, weight 0.582, about 0.00609 epochs in this run\n"
      "\n  shouted.txt: budget 2 epochs of 18000 tokens, weight 0.418, about 0.244 epochs in this run\n"
      "\nstep 40: train ${number}, val ${number} \\(tinyshakespeare.txt val ${number}, shouted.txt val ${number}\\)\n"
      "\ndrawn: tinyshakespeare.txt [0-9]+ windows \\([0-9.]+%, weight 58.2%; [0-9.]+ epochs\\), shouted.txt [0-9]+ windows")
    if(NOT whole MATCHES "${line}")
      message(FATAL_ERROR "the mixture run printed no line matching ${line}")
    endif()
  endforeach()
  expect_resumed_as_whole("${whole}" "${second}" mixture)
else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()

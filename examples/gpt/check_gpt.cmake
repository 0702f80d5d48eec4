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
cmake_minimum_required(VERSION 3.21)

set(number "[0-9]+\\.[0-9]+")
# A small model on the full text: 1 layer, 2 heads, width 32, block 16.
set(tiny --data "${DATA}" --n-layer 1 --n-head 2 --n-embd 32 --block-size 16 --batch-size 16
         --eval-iters 8 --warmup-iters 5 --learning-rate 3e-3)

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
  lines_from(expected "${whole}" "step 30:")
  lines_from(got "${second}" "step 30:")
  # The time differs; everything else must not.
  string(REGEX REPLACE "\ntime per iteration: [^\n]*" "" expected "${expected}")
  string(REGEX REPLACE "\ntime per iteration: [^\n]*" "" got "${got}")
  if(NOT got STREQUAL expected)
    message(FATAL_ERROR "the resumed run printed\n${got}\nwhere the uninterrupted one printed\n"
                        "${expected}")
  endif()
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
else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()

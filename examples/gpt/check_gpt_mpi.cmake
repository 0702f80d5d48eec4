# The gpt and char_lm examples under mpirun, run with cmake -P and: GPT, CHAR_LM (the programs),
# MPIEXEC and NP_FLAG (mpiexec and its flag for the number of processes), DATA (Tiny
# Shakespeare), WORDS (char_lm's test words), WORK_DIR and MODE:
#   equivalence: 2 ranks with batches of 6 print the losses (every iteration's, and the
#            evaluations') of 1 process accumulating 2 batches of 6, the same 12 windows an
#            iteration, within float32 rounding (one unit in the 4th decimal); only rank 0
#            prints; the 2-rank run's checkpoint at iteration 21 resumes in 1 process, which
#            goes on as the uninterrupted one-process run; a run with another number of batch
#            streams refuses it.
#   rank_error: a rank that throws ends the whole job with its message while the other rank
#            waits in a collective, no hang: rank 1 before training (its --data cannot be
#            read), rank 0 during it (its --save cannot be written).
#   char_lm: 2 ranks train char_lm on their shards, print once, save; 1 process resumes.
cmake_minimum_required(VERSION 3.21)

set(model --data "${DATA}" --n-layer 1 --n-head 2 --n-embd 32 --block-size 16 --batch-size 6
          --eval-iters 4 --warmup-iters 5 --learning-rate 3e-3 --eval-interval 10
          --log-interval 1 --no-full-eval)

# Runs the command after `expect` (0: must succeed, else must fail); the output and errors.
function(run out errors expect)
  execute_process(COMMAND ${ARGN} TIMEOUT 240
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE error)
  message("${ARGN}\n${output}${error}")
  if(result MATCHES "timeout")
    message(FATAL_ERROR "still running after 240 s: ${result}")
  endif()
  if(expect EQUAL 0 AND NOT result EQUAL 0)
    message(FATAL_ERROR "exited with ${result}")
  elseif(NOT expect EQUAL 0 AND result EQUAL 0)
    message(FATAL_ERROR "succeeded where it should have failed")
  endif()
  set(${out} "${output}" PARENT_SCOPE)
  set(${errors} "${error}" PARENT_SCOPE)
endfunction()

# The numbers of the lines "step N: ..." and "iter N: loss X" with first <= N <= last, in
# order, each as "N:units" with units the number in 1e-4.
function(numbers_of out text first last)
  set(result)
  string(REGEX MATCHALL "(step|iter) [0-9]+: [^\n]*" lines "${text}")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "^(step|iter) ([0-9]+)" unused "${line}")
    set(n ${CMAKE_MATCH_2})
    if(n LESS first OR n GREATER last)
      continue()
    endif()
    string(REGEX MATCHALL "[0-9]+\\.[0-9][0-9][0-9][0-9]" values "${line}")
    foreach(value IN LISTS values)
      string(REPLACE "." "" value "${value}")
      string(REGEX REPLACE "^0+([0-9])" "\\1" value "${value}")
      list(APPEND result "${n}:${value}")
    endforeach()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# Every number of `got` within one unit (1e-4) of the same line's in `expected`.
function(expect_same_numbers got expected what)
  list(LENGTH got n_got)
  list(LENGTH expected n_expected)
  if(NOT n_got EQUAL n_expected OR n_got EQUAL 0)
    message(FATAL_ERROR "${what}: ${n_got} numbers where ${n_expected} were expected:\n"
                        "${got}\n${expected}")
  endif()
  math(EXPR last "${n_got} - 1")
  foreach(i RANGE ${last})
    list(GET got ${i} g)
    list(GET expected ${i} e)
    string(REGEX MATCH "^([0-9]+):([0-9]+)$" unused "${g}")
    set(g_line ${CMAKE_MATCH_1})
    set(g_value ${CMAKE_MATCH_2})
    string(REGEX MATCH "^([0-9]+):([0-9]+)$" unused "${e}")
    math(EXPR difference "${g_value} - ${CMAKE_MATCH_2}")
    if(NOT g_line EQUAL CMAKE_MATCH_1 OR difference GREATER 1 OR difference LESS -1)
      message(FATAL_ERROR "${what}: iteration ${g_line} printed ${g_value} where ${e} was "
                          "expected (units of 1e-4)")
    endif()
  endforeach()
  message("${what}: ${n_got} numbers within 1e-4")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(checkpoint "${WORK_DIR}/two_ranks.safetensors")

if(MODE STREQUAL "equivalence")
  run(one unused 0 "${GPT}" ${model} --gradient-accumulation-steps 2 --max-iters 30)
  run(two unused 0 "${MPIEXEC}" ${NP_FLAG} 2 "${GPT}" ${model} --max-iters 20
      --save "${checkpoint}")
  if(NOT one MATCHES "data parallel: 1 rank x 2 batches of 6 windows = 12 windows per iteration")
    message(FATAL_ERROR "the one-process run did not say it accumulates 2 batches")
  endif()
  if(NOT two MATCHES "data parallel: 2 ranks x 1 batch of 6 windows = 12 windows per iteration")
    message(FATAL_ERROR "the 2-rank run did not say it trains on 2 ranks")
  endif()
  if(NOT two MATCHES "\nall-reduce per iteration: [0-9.]+ buckets, [0-9.]+ MB from each rank")
    message(FATAL_ERROR "the 2-rank run did not report its all-reduces")
  endif()
  string(REGEX MATCHALL "\nstep 0:" firsts "\n${two}")
  list(LENGTH firsts printed)
  if(NOT printed EQUAL 1)
    message(FATAL_ERROR "'step 0:' printed ${printed} times: only rank 0 is to print")
  endif()
  numbers_of(expected "${one}" 0 20)
  numbers_of(got "${two}" 0 20)
  expect_same_numbers("${got}" "${expected}" "2 ranks x 6 against 1 process x 2 x 6")

  run(resumed unused 0 "${GPT}" ${model} --gradient-accumulation-steps 2 --max-iters 30
      --resume "${checkpoint}")
  if(NOT resumed MATCHES "resumed from [^\n]* at iteration 21\n")
    message(FATAL_ERROR "the 2-rank checkpoint did not resume at iteration 21")
  endif()
  numbers_of(expected "${one}" 21 30)
  numbers_of(got "${resumed}" 21 30)
  expect_same_numbers("${got}" "${expected}" "resumed in 1 process against the whole run")

  run(unused errors 1 "${GPT}" ${model} --max-iters 30 --resume "${checkpoint}")
  if(NOT errors MATCHES "was written by a run of 2 streams of batches \\(ranks x --gradient-accumulation-steps\\) and this run has 1")
    message(FATAL_ERROR "a run of 1 stream did not refuse the 2-stream checkpoint clearly")
  endif()
elseif(MODE STREQUAL "rank_error")
  # Rank 0 reads the text and waits for rank 1 in DistributedDataParallel's first collective.
  run(unused errors 1 "${MPIEXEC}" ${NP_FLAG} 1 "${GPT}" ${model} --max-iters 5 :
      ${NP_FLAG} 1 "${GPT}" ${model} --max-iters 5 --data "${WORK_DIR}/missing.txt")
  if(NOT errors MATCHES "gpt: rank 1: cannot read the text '[^']*missing.txt'")
    message(FATAL_ERROR "the job did not end with rank 1's message")
  endif()
  # Mid-run: rank 0 cannot write its checkpoint (at iteration 0, after the model is wrapped)
  # while rank 1 goes on to its first backward and waits for rank 0's gradients.
  run(unused errors 1 "${MPIEXEC}" ${NP_FLAG} 2 "${GPT}" ${model} --max-iters 5
      --save "${WORK_DIR}/no/such/directory/run.safetensors")
  if(NOT errors MATCHES "gpt: rank 0: save: [^\n]*no/such/directory")
    message(FATAL_ERROR "the job did not end with rank 0's message")
  endif()
elseif(MODE STREQUAL "char_lm")
  set(args --data "${WORDS}" --eval-every 50 --hidden 32)
  run(two unused 0 "${MPIEXEC}" ${NP_FLAG} 2 "${CHAR_LM}" ${args} --steps 200
      --save "${WORK_DIR}/char_lm.safetensors")
  if(NOT two MATCHES "data parallel: 2 ranks x batch 256 = 512 examples per step")
    message(FATAL_ERROR "char_lm did not say it trains on 2 ranks")
  endif()
  string(REGEX MATCHALL "\nstep 200/200 " lasts "\n${two}")
  list(LENGTH lasts printed)
  if(NOT printed EQUAL 1)
    message(FATAL_ERROR "'step 200/200' printed ${printed} times: only rank 0 is to print")
  endif()
  string(REGEX MATCH "step 50/200 [^\n]*  val ([0-9.]+)" unused "${two}")
  set(first_val ${CMAKE_MATCH_1})
  string(REGEX MATCH "step 200/200 [^\n]*  val ([0-9.]+)" unused "${two}")
  if(NOT CMAKE_MATCH_1 LESS first_val)
    message(FATAL_ERROR "the validation loss did not fall: ${first_val}, then ${CMAKE_MATCH_1}")
  endif()
  run(resumed unused 0 "${CHAR_LM}" ${args} --steps 250 --resume "${WORK_DIR}/char_lm.safetensors")
  if(NOT resumed MATCHES "resumed from [^\n]* at step 200\n" OR
     NOT resumed MATCHES "\nstep 250/250 ")
    message(FATAL_ERROR "the 2-rank char_lm checkpoint did not resume in 1 process")
  endif()
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

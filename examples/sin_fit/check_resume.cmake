# Trains sin_fit for STEPS steps in one run, and again as HALF steps saved to a checkpoint then
# resumed to STEPS: both must print the same Result line (training resumes exactly).
# Run with cmake -P and: SIN_FIT, MODE, STEPS, HALF, WORK_DIR.
cmake_minimum_required(VERSION 3.21)

file(MAKE_DIRECTORY "${WORK_DIR}")
set(checkpoint "${WORK_DIR}/sin_fit_${MODE}.safetensors")
file(REMOVE "${checkpoint}")

function(run_sin_fit out_var)
  execute_process(COMMAND "${SIN_FIT}" --mode ${MODE} ${ARGN}
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "sin_fit --mode ${MODE} ${ARGN} exited with ${result}: ${errors}")
  endif()
  if(NOT output MATCHES "Result: y = [^\n]*")
    message(FATAL_ERROR "no Result line in:\n${output}")
  endif()
  set(${out_var} "${CMAKE_MATCH_0}" PARENT_SCOPE)
endfunction()

run_sin_fit(straight --steps ${STEPS})
run_sin_fit(first_half --steps ${HALF} --save "${checkpoint}")
if(NOT EXISTS "${checkpoint}")
  message(FATAL_ERROR "--save wrote no checkpoint at ${checkpoint}")
endif()
run_sin_fit(resumed --steps ${STEPS} --resume "${checkpoint}")
message("uninterrupted: ${straight}\nresumed:       ${resumed}")
if(NOT straight STREQUAL resumed)
  message(FATAL_ERROR "the resumed run ended elsewhere than the uninterrupted one")
endif()

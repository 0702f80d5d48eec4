# Checks that an example refuses to resume from a damaged checkpoint: it saves a good one, has
# edit_checkpoint damage it, then resumes from the damaged one as check_refuses.cmake does.
# Run with cmake -P and: PROGRAM (the example), EDITOR (edit_checkpoint), WORK_DIR, SAVE (the
# arguments of the run that saves), EDIT (edit_checkpoint's arguments), RESUME (the arguments of
# the run that resumes, besides --resume) and EXPECT; lists separated by semicolons.
cmake_minimum_required(VERSION 3.21)

file(MAKE_DIRECTORY "${WORK_DIR}")
set(good "${WORK_DIR}/good.safetensors")
set(bad "${WORK_DIR}/bad.safetensors")
file(REMOVE "${good}" "${bad}")

set(save_args ${SAVE})
execute_process(COMMAND "${PROGRAM}" ${save_args} --save "${good}"
  RESULT_VARIABLE result OUTPUT_QUIET ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} ${save_args} --save ${good} exited with ${result}: ${errors}")
endif()
set(edit_args ${EDIT})
execute_process(COMMAND "${EDITOR}" "${good}" "${bad}" ${edit_args}
  RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "edit_checkpoint ${edit_args} exited with ${result}: ${errors}")
endif()

set(ARGS ${RESUME} --resume "${bad}")
include("${CMAKE_CURRENT_LIST_DIR}/check_refuses.cmake")

# Runs an example with arguments it must refuse and checks that it does: a non-zero exit code
# (not a crash) and an error message that contains EXPECT.
# Run with cmake -P and: PROGRAM (the example), ARGS (its arguments, separated by semicolons)
# and EXPECT.
cmake_minimum_required(VERSION 3.21)

# CTest passes ARGS with escaped semicolons; this turns them into a list.
set(args ${ARGS})
execute_process(COMMAND "${PROGRAM}" ${args}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}${errors}")
if(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${PROGRAM} did not exit normally: ${result}")
endif()
if(result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} accepted ${args}")
endif()
string(FIND "${errors}${output}" "${EXPECT}" position)
if(position EQUAL -1)
  message(FATAL_ERROR "${PROGRAM}'s error message does not say: ${EXPECT}")
endif()

# Runs an example with a flag it does not know and checks that it refuses: a non-zero exit code
# (not a crash) and an error message that names the flag.
# Run with cmake -P and: PROGRAM (the example) and FLAG.
cmake_minimum_required(VERSION 3.21)

execute_process(COMMAND "${PROGRAM}" "${FLAG}"
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}${errors}")
if(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${PROGRAM} did not exit normally: ${result}")
endif()
if(result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} accepted the unknown flag ${FLAG}")
endif()
string(FIND "${errors}${output}" "${FLAG}" position)
if(position EQUAL -1)
  message(FATAL_ERROR "${PROGRAM}'s error message does not name ${FLAG}")
endif()

# Runs spiral and checks its output: exit code 0, at least one "step S loss L" line, and the
# "accuracy A" line, with A >= MIN_ACCURACY when that is given.
# Run with cmake -P and: SPIRAL (the program), optional ARGS (flags, separated by semicolons)
# and MIN_ACCURACY.
cmake_minimum_required(VERSION 3.21)

# CTest passes ARGS with escaped semicolons; this turns them into a list.
set(args ${ARGS})
execute_process(COMMAND "${SPIRAL}" ${args}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}${errors}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "spiral exited with ${result}")
endif()

if(NOT output MATCHES "(^|\n)step [0-9]+ loss [0-9]")
  message(FATAL_ERROR "spiral printed no 'step S loss L' line")
endif()
if(NOT output MATCHES "(^|\n)accuracy ([0-9.]+)\n")
  message(FATAL_ERROR "spiral printed no 'accuracy A' line")
endif()
set(accuracy "${CMAKE_MATCH_2}")
if(DEFINED MIN_ACCURACY AND accuracy LESS MIN_ACCURACY)
  message(FATAL_ERROR "spiral's accuracy ${accuracy} is below ${MIN_ACCURACY}")
endif()

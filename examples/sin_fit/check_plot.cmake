# sin_fit --plot must write an SVG holding the three curves (sin, fit, loss).
# Run with cmake -P and: SIN_FIT, PLOT (the file to write).
cmake_minimum_required(VERSION 3.21)
file(REMOVE "${PLOT}")
execute_process(COMMAND "${SIN_FIT}" --steps 300 --plot "${PLOT}" RESULT_VARIABLE result
  OUTPUT_QUIET)
if(NOT result EQUAL 0 OR NOT EXISTS "${PLOT}")
  message(FATAL_ERROR "sin_fit --plot failed (${result}) or wrote nothing")
endif()
file(READ "${PLOT}" svg)
string(REGEX MATCHALL "<polyline" curves "${svg}")
list(LENGTH curves count)
if(NOT svg MATCHES "^<svg" OR NOT count EQUAL 3)
  message(FATAL_ERROR "expected an SVG with 3 curves, found ${count}")
endif()

# Proves the installed package works: installs the xgrad build tree into a fresh prefix, then
# configures, builds and runs tests/package/consumer against that prefix only.
# Run with cmake -P and: XGRAD_BINARY_DIR, CONSUMER_SOURCE_DIR, WORK_DIR, BUILD_CONFIG,
# CXX_COMPILER, GENERATOR.
cmake_minimum_required(VERSION 3.21)

foreach(var XGRAD_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_package_test.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT BUILD_CONFIG)
  set(BUILD_CONFIG Release)
endif()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result COMMAND_ECHO STDOUT)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "package test: ${name} failed (${result})")
  endif()
endfunction()

run_step(install
  "${CMAKE_COMMAND}" --install "${XGRAD_BINARY_DIR}" --prefix "${prefix}" --config "${BUILD_CONFIG}")
# Internal headers stay out of the install (cmake/install.cmake); the consumer below builds
# with what is installed, so the public headers do not need them.
foreach(internal tensor/kernels.hpp autograd/op_prelude.hpp autograd/record_view.hpp)
  if(EXISTS "${prefix}/include/xgrad/${internal}")
    message(FATAL_ERROR "package test: internal header ${internal} was installed")
  endif()
endforeach()
run_step(configure
  "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}" -G "${GENERATOR}"
  "-DCMAKE_BUILD_TYPE=${BUILD_CONFIG}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DWITH_DISTRIBUTED=${DISTRIBUTED}")

# The consumer must have found this install, not some other xgrad on the machine.
file(STRINGS "${consumer_build}/CMakeCache.txt" xgrad_dir_line REGEX "^xgrad_DIR:")
string(REGEX REPLACE "^xgrad_DIR:[A-Z]+=" "" xgrad_dir "${xgrad_dir_line}")
file(REAL_PATH "${prefix}" real_prefix)
file(REAL_PATH "${xgrad_dir}" real_xgrad_dir)
string(FIND "${real_xgrad_dir}" "${real_prefix}/" position)
if(NOT position EQUAL 0)
  message(FATAL_ERROR "package test: the consumer found xgrad in '${xgrad_dir}', not under '${prefix}'")
endif()

run_step(build "${CMAKE_COMMAND}" --build "${consumer_build}" --config "${BUILD_CONFIG}")

find_program(consumer NAMES consumer PATHS "${consumer_build}" "${consumer_build}/${BUILD_CONFIG}"
             NO_DEFAULT_PATH REQUIRED)
run_step(run "${consumer}")
if(DISTRIBUTED)
  find_program(consumer_distributed NAMES consumer_distributed
               PATHS "${consumer_build}" "${consumer_build}/${BUILD_CONFIG}" NO_DEFAULT_PATH REQUIRED)
  run_step(run_distributed "${consumer_distributed}")
endif()
message(STATUS "package test: installed xgrad found, built against and run")

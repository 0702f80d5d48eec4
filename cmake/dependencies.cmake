# Finds every dependency with find_package. A missing one stops the configure with the Debian
# package that provides it.

# xgrad_find_required(<package> <debian-package> [find_package arguments...])
macro(xgrad_find_required package debian_package)
  find_package(${package} ${ARGN} QUIET)
  if(NOT ${package}_FOUND)
    set(_xgrad_detail "")
    if(${package}_NOT_FOUND_MESSAGE)
      set(_xgrad_detail "\n(${${package}_NOT_FOUND_MESSAGE})")
    endif()
    message(FATAL_ERROR
      "xgrad needs the CMake package '${package}', which was not found.${_xgrad_detail}\n"
      "Install the Debian package '${debian_package}':\n"
      "    sudo apt-get install ${debian_package}\n"
      "or run ${PROJECT_SOURCE_DIR}/scripts/setup.sh, which installs every dependency.")
  endif()
endmacro()

# xtensor-blas's package config calls find_dependency(BLAS) and find_dependency(LAPACK); find
# them here first so that a missing BLAS names its package, and pick OpenBLAS (which also
# provides LAPACK) unless the user chose another vendor.
if(NOT DEFINED BLA_VENDOR)
  set(BLA_VENDOR OpenBLAS)
endif()
xgrad_find_required(BLAS libopenblas-dev)
xgrad_find_required(LAPACK libopenblas-dev)

xgrad_find_required(xtl xtl-dev CONFIG)
if(XGRAD_USE_XSIMD)
  xgrad_find_required(xsimd libxsimd-dev CONFIG)
endif()
xgrad_find_required(xtensor libxtensor-dev CONFIG)
xgrad_find_required(xtensor-blas libxtensor-blas-dev CONFIG)
xgrad_find_required(nlohmann_json nlohmann-json3-dev CONFIG)  # safetensors headers
find_package(Threads REQUIRED)  # part of the C library on Debian 12
if(XGRAD_THREADS STREQUAL "TBB")
  xgrad_find_required(TBB libtbb-dev CONFIG)
elseif(XGRAD_THREADS STREQUAL "OpenMP")
  xgrad_find_required(OpenMP "libgomp (g++) or libomp-dev (clang)")
else()
  message(FATAL_ERROR "XGRAD_THREADS must be TBB or OpenMP, not '${XGRAD_THREADS}'")
endif()

# MPI, for xgrad::distributed only: AUTO builds it when MPI is found, ON requires it.
set(XGRAD_HAS_MPI OFF)
if(XGRAD_WITH_MPI STREQUAL "ON")
  xgrad_find_required(MPI "libopenmpi-dev and openmpi-bin" COMPONENTS CXX)
  set(XGRAD_HAS_MPI ON)
elseif(XGRAD_WITH_MPI STREQUAL "AUTO")
  find_package(MPI QUIET COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(XGRAD_HAS_MPI ON)
  else()
    message(STATUS "MPI not found: xgrad::distributed is not built (Debian: libopenmpi-dev)")
  endif()
elseif(NOT XGRAD_WITH_MPI STREQUAL "OFF")
  message(FATAL_ERROR "XGRAD_WITH_MPI must be AUTO, ON or OFF, not '${XGRAD_WITH_MPI}'")
endif()

if(XGRAD_BUILD_TESTS)
  xgrad_find_required(GTest libgtest-dev CONFIG)
endif()
if(XGRAD_BUILD_EXAMPLES)
  xgrad_find_required(CLI11 libcli11-dev CONFIG)
endif()
if(XGRAD_BUILD_BENCHMARKS)
  xgrad_find_required(benchmark libbenchmark-dev CONFIG)
endif()

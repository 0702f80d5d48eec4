# Checks that the AVX units of the kernels (tensor/simd_avx2.cpp, simd_avx512.cpp) share no
# function with the rest of the program: every weak or unique symbol they define must name
# their own instruction set. Otherwise the linker could keep that unit's copy, compiled for AVX,
# for callers on a CPU without it (tensor/simd_kernels.hpp). Run by CTest:
#   cmake -DNM=nm -DOBJECTS=a.o:b.o:... -P simd_symbols.cmake
string(REPLACE ":" ";" objects "${OBJECTS}")
set(checked 0)
foreach(object IN LISTS objects)
  if(object MATCHES "simd_avx2\\.cpp\\.o$")
    set(marker "avx2")
  elseif(object MATCHES "simd_avx512\\.cpp\\.o$")
    set(marker "avx512")
  else()
    continue()
  endif()
  execute_process(COMMAND "${NM}" -C --defined-only "${object}" OUTPUT_VARIABLE symbols
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}")
  endif()
  string(REPLACE "\n" ";" lines "${symbols}")
  foreach(line IN LISTS lines)
    # nm's types W and V (weak), u (unique global): what the linker may take from any unit
    if(line MATCHES "^[0-9a-f]* [WVu] (.*)$")
      set(name "${CMAKE_MATCH_1}")
      if(NOT name MATCHES "${marker}" AND NOT name STREQUAL "DW.ref.__gxx_personality_v0")
        message(FATAL_ERROR "${object} defines a shared symbol for another instruction set: "
                            "${name}")
      endif()
    endif()
  endforeach()
  math(EXPR checked "${checked} + 1")
endforeach()
if(NOT checked EQUAL 2)
  message(FATAL_ERROR "expected the objects of simd_avx2.cpp and simd_avx512.cpp, got ${OBJECTS}")
endif()
message(STATUS "the AVX units define only their own shared symbols")

# Fails when a library source throws by hand instead of through tensor/check.hpp's XG_CHECK_*
# macros or detail::fail (docs/design.md, "Errors"). Allowed: the macros' own throw, allocation
# failures (no message to build), and the index checks of Shape::at and SmallVector::at.
#   cmake -DSOURCE_DIR=<repo> -P tests/no_raw_throw.cmake
set(allowed
    "throw E\\(message\\)"                 # check.hpp: the one place a message is thrown
    "throw std::bad_alloc\\(\\)"
    "throw std::bad_array_new_length\\(\\)"
    "throw OutOfMemoryError\\("            # array.cpp: a std::bad_alloc with the bytes asked for
    "throw std::out_of_range\\(\"SmallVector\"\\)"
    "throw std::out_of_range\\(\"Shape::at: index out of range\"\\)")
set(found "")
foreach(dir autograd tensor optim nn distributed)
  file(GLOB_RECURSE sources "${SOURCE_DIR}/${dir}/*.cpp" "${SOURCE_DIR}/${dir}/*.hpp")
  foreach(source IN LISTS sources)
    file(STRINGS "${source}" lines REGEX "throw ")
    foreach(line IN LISTS lines)
      if(line MATCHES "^[ \t]*//")
        continue()
      endif()
      set(ok FALSE)
      foreach(pattern IN LISTS allowed)
        if(line MATCHES "${pattern}")
          set(ok TRUE)
        endif()
      endforeach()
      if(NOT ok)
        file(RELATIVE_PATH rel "${SOURCE_DIR}" "${source}")
        string(STRIP "${line}" line)
        string(APPEND found "  ${rel}: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "checks written as raw throws (use XG_CHECK_* or detail::fail):\n${found}")
endif()

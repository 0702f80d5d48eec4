# `cmake --install` puts the library, the headers and a package config under the prefix, so
# that another project can find_package(xgrad CONFIG REQUIRED) and link xgrad::xgrad.
include(CMakePackageConfigHelpers)

set(XGRAD_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/xgrad")

install(TARGETS xgrad
  EXPORT xgradTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

# Headers keep their layout: include/xgrad/xgrad.hpp, include/xgrad/tensor/*.hpp, ...
# A layer folder without headers (yet) installs nothing. The internal headers below are
# included only by the library's .cpp files (and white-box tests), never by xgrad.hpp's headers;
# the package_install test builds a project against what is installed, so a public header that
# needed one would fail it.
set(_xgrad_internal_headers
  autograd/op_prelude.hpp autograd/record.hpp autograd/record_view.hpp autograd/tensor_impl.hpp
  nn/replace_file.hpp nn/safetensors_header.hpp
  tensor/allocator.hpp tensor/attention.hpp tensor/kernels.hpp tensor/layer_norm.hpp
  tensor/nan_minmax.hpp tensor/object_pool.hpp tensor/parallel.hpp tensor/strided_loop.hpp tensor/wrapping.hpp)
install(FILES "${PROJECT_SOURCE_DIR}/xgrad.hpp" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/xgrad")
foreach(layer tensor autograd optim nn)
  file(GLOB_RECURSE _xgrad_headers CONFIGURE_DEPENDS RELATIVE "${PROJECT_SOURCE_DIR}"
       "${PROJECT_SOURCE_DIR}/${layer}/*.hpp")
  list(REMOVE_ITEM _xgrad_headers ${_xgrad_internal_headers})
  foreach(header IN LISTS _xgrad_headers)
    get_filename_component(header_dir "${header}" DIRECTORY)
    install(FILES "${PROJECT_SOURCE_DIR}/${header}"
            DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/xgrad/${header_dir}")
  endforeach()
endforeach()

install(EXPORT xgradTargets
  NAMESPACE xgrad::
  DESTINATION "${XGRAD_INSTALL_CMAKEDIR}")

# xgrad::distributed, when built, as a component of its own: find_package(xgrad) works with or
# without it, find_package(xgrad COMPONENTS distributed) requires it.
if(TARGET xgrad_distributed)
  install(TARGETS xgrad_distributed
    EXPORT xgradDistributedTargets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  install(FILES "${PROJECT_SOURCE_DIR}/distributed/distributed.hpp"
                "${PROJECT_SOURCE_DIR}/distributed/ddp.hpp"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/xgrad/distributed")
  install(EXPORT xgradDistributedTargets
    NAMESPACE xgrad::
    DESTINATION "${XGRAD_INSTALL_CMAKEDIR}")
endif()

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/xgradConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/xgradConfig.cmake"
  INSTALL_DESTINATION "${XGRAD_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/xgradConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)  # 0.x: a minor release may break the API
install(FILES
  "${PROJECT_BINARY_DIR}/xgradConfig.cmake"
  "${PROJECT_BINARY_DIR}/xgradConfigVersion.cmake"
  DESTINATION "${XGRAD_INSTALL_CMAKEDIR}")

# install.cmake - what `cmake --install` puts where, included by the top-level
# CMakeLists.txt after the targets exist:
#
#   bin/lockwatch                         the command (tools/CMakeLists.txt)
#   lib/liblockwatch.so                   the preload library
#   include/lockwatch/lockwatch.h         the public header (version macros)
#   share/man/man1/lockwatch.1            the man page
#   lib/pkgconfig/lockwatch.pc            pkg-config: variable `preload`
#   lib/cmake/lockwatch/                  find_package(lockwatch): lockwatch::preload,
#                                         lockwatch_add_test()
#
# Every path is relative to the prefix, so the installed tree can be moved
# (cmake --install --prefix DIR, and the packages CPack makes).
include(CMakePackageConfigHelpers)

# The header's version macros must say what project(VERSION) says.
file(STRINGS "${PROJECT_SOURCE_DIR}/include/lockwatch/lockwatch.h" lw_version_lines
     REGEX "^#define LOCKWATCH_VERSION_(MAJOR|MINOR|PATCH|STRING) ")
set(lw_header_version "")
foreach(part MAJOR MINOR PATCH)
  string(REGEX MATCH "LOCKWATCH_VERSION_${part} ([0-9]+)" _ "${lw_version_lines}")
  list(APPEND lw_header_version "${CMAKE_MATCH_1}")
endforeach()
list(JOIN lw_header_version "." lw_header_version)
string(REGEX MATCH "LOCKWATCH_VERSION_STRING \"([^\"]*)\"" _ "${lw_version_lines}")
if(NOT lw_header_version STREQUAL PROJECT_VERSION OR NOT CMAKE_MATCH_1 STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "include/lockwatch/lockwatch.h says version ${lw_header_version} "
                      "(\"${CMAKE_MATCH_1}\") but project() says ${PROJECT_VERSION}: "
                      "update the header")
endif()

install(TARGETS lockwatch LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/lockwatch/lockwatch.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lockwatch)
install(FILES ${PROJECT_SOURCE_DIR}/docs/lockwatch.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(LW_PRELOAD_NAME ${CMAKE_SHARED_LIBRARY_PREFIX}lockwatch${CMAKE_SHARED_LIBRARY_SUFFIX})

# pkg-config: paths relative to the .pc file's own directory when they can be.
set(lw_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(LW_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH lw_pc_up "/prefix/${lw_pc_dir}" "/prefix")
  string(REGEX REPLACE "/$" "" lw_pc_up "${lw_pc_up}")
  set(LW_PC_PREFIX "\${pcfiledir}/${lw_pc_up}")
endif()
foreach(kind LIBDIR INCLUDEDIR BINDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(LW_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(LW_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/lockwatch.pc.in ${PROJECT_BINARY_DIR}/lockwatch.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lockwatch.pc DESTINATION ${lw_pc_dir})

# CMake package.
set(lw_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/lockwatch)
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/lockwatchConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lockwatchConfig.cmake
  INSTALL_DESTINATION ${lw_cmake_dir}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a new minor version may change what the package gives.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/lockwatchConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lockwatchConfig.cmake
              ${PROJECT_BINARY_DIR}/lockwatchConfigVersion.cmake
        DESTINATION ${lw_cmake_dir})

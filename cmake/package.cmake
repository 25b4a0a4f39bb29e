# package.cmake - CPack: `cpack -G DEB` (or TGZ) in the build directory makes
# a package of what install.cmake installs, under /usr.
set(CPACK_PACKAGE_NAME lockwatch)
set(CPACK_PACKAGE_VENDOR "lockwatch developers")
set(CPACK_PACKAGE_CONTACT "lockwatch developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "runtime lock-order and deadlock checker for C and C++ programs (LD_PRELOAD)")
set(CPACK_PACKAGE_DESCRIPTION
    "lockwatch watches every lock operation of an unmodified program, loaded with LD_PRELOAD, \
merges the order in which each thread takes its locks into one lock-order graph, and reports \
every cycle in it as a potential deadlock, as well as real deadlocks and lock misuse. The \
lockwatch command runs programs under it, and turns its reports into text, Graphviz graphs and \
SARIF for code scanning.")
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB TGZ)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/" "/\\\\.git/" "__pycache__")

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "lockwatch developers")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libdw1, libjson-c5")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS graphviz)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)

include(CPack)

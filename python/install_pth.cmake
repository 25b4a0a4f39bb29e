# install_pth.cmake - run by `cmake --install`: writes lockwatch.pth, naming
# the installed Python layer's directory, into the site directory that the
# python3 found at configure time reads for the install prefix, so that
# `python3 -m lockwatch` works without PYTHONPATH (docs/python.md).
#
# Set before it (install(CODE)): LW_PTH_PYTHON, the interpreter;
# LW_PTH_LIBDIR, CMAKE_INSTALL_LIBDIR; LW_PTH_WORK, a directory to write in.
# A missing interpreter, or one that fails, only says so: the rest of the
# install stands.

if(NOT LW_PTH_PYTHON OR NOT EXISTS "${LW_PTH_PYTHON}")
  message(STATUS "lockwatch: no python3 found at configure time: lockwatch.pth not installed")
  return()
endif()
if(IS_ABSOLUTE "${LW_PTH_LIBDIR}")
  set(lw_layer "${LW_PTH_LIBDIR}/lockwatch/python")
else()
  set(lw_layer "${CMAKE_INSTALL_PREFIX}/${LW_PTH_LIBDIR}/lockwatch/python")
endif()

# The candidates, under the prefix in its lib directory: purelib of the
# default scheme and of posix_prefix (Debian's default, posix_local, puts
# it under <prefix>/local), then site.getsitepackages() (Debian's
# dist-packages). The first that python3 reads (on its sys.path) wins;
# else the first (a prefix python3 does not read: site.addsitedir() it).
execute_process(
  COMMAND "${LW_PTH_PYTHON}" -c [=[
import os, site, sys, sysconfig
prefix = os.path.abspath(sys.argv[1])
paths = [sysconfig.get_path("purelib", vars={"base": prefix, "platbase": prefix})]
if "posix_prefix" in sysconfig.get_scheme_names():
    paths.append(sysconfig.get_path("purelib", "posix_prefix",
                                    vars={"base": prefix, "platbase": prefix}))
paths += site.getsitepackages() if hasattr(site, "getsitepackages") else []
found = []
for p in map(os.path.abspath, paths):
    rel = os.path.relpath(p, prefix)
    if rel.split(os.sep)[0] in ("lib", "lib64") and p not in found:
        found.append(p)
read = [p for p in found if p in map(os.path.abspath, sys.path)]
print((read or found or [""])[0])
]=] "${CMAKE_INSTALL_PREFIX}"
  OUTPUT_VARIABLE lw_site OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE lw_rc ERROR_VARIABLE lw_err)
if(NOT lw_rc EQUAL 0 OR NOT lw_site)
  message(STATUS "lockwatch: ${LW_PTH_PYTHON} named no site directory under ${CMAKE_INSTALL_PREFIX}: "
                 "lockwatch.pth not installed ${lw_err}")
  return()
endif()
file(WRITE "${LW_PTH_WORK}/lockwatch.pth" "${lw_layer}\n")
file(INSTALL "${LW_PTH_WORK}/lockwatch.pth" DESTINATION "${lw_site}")

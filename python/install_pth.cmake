# install_pth.cmake - run by `cmake --install`: writes lockwatch.pth, naming
# the installed Python layer's directory, into the site directories that
# the Python interpreters found at configure time read for the install
# prefix, so that `python3 -m lockwatch` works without PYTHONPATH
# (docs/python.md).
#
# Set before it (install(CODE)): LW_PTH_PYTHONS, the interpreters (python3
# on PATH, then the system's); LW_PTH_LIBDIR, CMAKE_INSTALL_LIBDIR;
# LW_PTH_WORK, a directory to write in. An interpreter that fails is
# passed over: the rest of the install stands.

if(IS_ABSOLUTE "${LW_PTH_LIBDIR}")
  set(lw_layer "${LW_PTH_LIBDIR}/lockwatch/python")
else()
  set(lw_layer "${CMAKE_INSTALL_PREFIX}/${LW_PTH_LIBDIR}/lockwatch/python")
endif()

# Each interpreter's candidates, under the prefix in its lib directory:
# purelib of the default scheme and of posix_prefix (Debian's default,
# posix_local, puts it under <prefix>/local), then site.getsitepackages()
# (Debian's dist-packages). It prints the first it reads (on its sys.path)
# as "1;dir", else its first as "0;dir". The .pth goes into every directory
# read, or, when no interpreter reads one (a prefix of no Python's: add it
# with site.addsitedir()), into the first interpreter's first.
set(lw_read)
set(lw_fallback)
foreach(py IN LISTS LW_PTH_PYTHONS)
  execute_process(
    COMMAND "${py}" -c [=[
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
if found:
    print("%d;%s" % (bool(read), (read or found)[0]))
]=] "${CMAKE_INSTALL_PREFIX}"
    OUTPUT_VARIABLE lw_out OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE lw_rc ERROR_QUIET)
  if(NOT lw_rc EQUAL 0 OR NOT lw_out MATCHES "^[01];")
    continue()
  endif()
  list(GET lw_out 0 lw_is_read)
  list(GET lw_out 1 lw_dir)
  if(lw_is_read)
    list(APPEND lw_read "${lw_dir}")
  elseif(NOT lw_fallback)
    set(lw_fallback "${lw_dir}")
  endif()
endforeach()
list(REMOVE_DUPLICATES lw_read)
if(NOT lw_read)
  set(lw_read "${lw_fallback}")
endif()
if(NOT lw_read)
  message(STATUS "lockwatch: no Python named a site directory under ${CMAKE_INSTALL_PREFIX}: "
                 "lockwatch.pth not installed")
  return()
endif()
file(WRITE "${LW_PTH_WORK}/lockwatch.pth" "${lw_layer}\n")
foreach(dir IN LISTS lw_read)
  file(INSTALL "${LW_PTH_WORK}/lockwatch.pth" DESTINATION "${dir}")
endforeach()

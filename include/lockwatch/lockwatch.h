/*
 * lockwatch.h - the public header of lockwatch.
 *
 * A program needs no header to be checked: lockwatch is loaded with
 * LD_PRELOAD into unmodified programs. This header tells code and build
 * scripts which version of lockwatch they have. The numbers follow the
 * project's version (CMake's project(VERSION)); the build checks that they
 * do.
 */
#ifndef LOCKWATCH_LOCKWATCH_H
#define LOCKWATCH_LOCKWATCH_H

#define LOCKWATCH_VERSION_MAJOR 0
#define LOCKWATCH_VERSION_MINOR 1
#define LOCKWATCH_VERSION_PATCH 0
#define LOCKWATCH_VERSION_STRING "0.1.0"

/* One number for comparisons: 10000 * major + 100 * minor + patch. */
#define LOCKWATCH_VERSION \
  (LOCKWATCH_VERSION_MAJOR * 10000 + LOCKWATCH_VERSION_MINOR * 100 + LOCKWATCH_VERSION_PATCH)

#endif

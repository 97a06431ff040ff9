/*
 * rill/version.h — which rill this is, at compile time and at run time.
 *
 * RILL_VERSION_NUM is 0xMMmmpp (major, minor, patch) of the headers you
 * compiled against; rill_version() tells what the library you linked is.
 * They differ when a program runs against a newer shared library, which is
 * fine: rill only adds symbols and appends fields to option structs.
 */
#ifndef RILL_VERSION_H
#define RILL_VERSION_H

#include <stddef.h>

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RILL_VERSION_MAJOR 0
#define RILL_VERSION_MINOR 1
#define RILL_VERSION_PATCH 0
#define RILL_VERSION_STRING "0.1.0"
#define RILL_VERSION_NUM                                                       \
  ((RILL_VERSION_MAJOR << 16) | (RILL_VERSION_MINOR << 8) | RILL_VERSION_PATCH)

/*
 * Grows by one each time a release adds public symbols; a program that needs
 * a symbol added in age N checks rill_version()->age >= N at run time.
 */
#define RILL_VERSION_AGE 1

typedef struct rill_version_info {
  int age;             /* RILL_VERSION_AGE of the library */
  unsigned version_num; /* RILL_VERSION_NUM of the library */
  const char *version; /* "0.1.0" */
  const char *curl_version; /* curl_version() of the linked libcurl */
} rill_version_info;

/*
 * The linked library's version.
 * Ownership: the struct and its strings are static; never free them.
 * Returns: never NULL.
 * Thread: any thread.
 * Since: 0.1.0 (age 1).
 */
RILL_API const rill_version_info *rill_version(void);

#ifdef __cplusplus
}
#endif
#endif /* RILL_VERSION_H */

/*
 * error.c — names and descriptions of status codes, generated from the one
 * table in rill/error.h so the three can never disagree.
 */
#include "rill/error.h"

#define CASE_TEXT(name, value, retryable, text)                                \
  case value:                                                                  \
    return text;
#define CASE_NAME(name, value, retryable, text)                                \
  case value:                                                                  \
    return #name;
#define CASE_RETRY(name, value, retryable, text)                               \
  case value:                                                                  \
    return retryable;

const char *rill_strerror(int code) {
  switch (code) {
    RILL_ERROR_MAP(CASE_TEXT)
  default:
    return "unknown error";
  }
}

const char *rill_error_name(int code) {
  switch (code) {
    RILL_ERROR_MAP(CASE_NAME)
  default:
    return "E_UNKNOWN";
  }
}

int rill_error_is_retryable(int code) {
  switch (code) {
    /* One case per code from the table: equal neighbours are expected. */
    RILL_ERROR_MAP(CASE_RETRY) /* NOLINT(bugprone-branch-clone) */
  default:
    return 0;
  }
}

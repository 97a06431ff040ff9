/*
 * version.c — rill_version(). Lives in src/http because it reports the
 * linked libcurl's version too, and only src/http includes curl.
 */
#include <curl/curl.h>

#include "rill/version.h"

const rill_version_info *rill_version(void) {
  static rill_version_info info = {RILL_VERSION_AGE, RILL_VERSION_NUM,
                                   RILL_VERSION_STRING, NULL};
  /* curl_version_info returns static data; reading it is thread-safe. */
  if (!info.curl_version) {
    const curl_version_info_data *c = curl_version_info(CURLVERSION_NOW);
    info.curl_version = c && c->version ? c->version : "unknown";
  }
  return &info;
}

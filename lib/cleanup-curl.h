/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TG_LIB_CLEANUP_CURL_H
#define TG_LIB_CLEANUP_CURL_H

#include <curl/curl.h>
#include "lib/cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all)

#endif

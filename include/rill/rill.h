/*
 * rill/rill.h — everything public in one include.
 *
 * rill is a C11 library for talking to LLM providers with true streaming.
 * Each area has its own header, which documents its ownership and threading
 * rules; include just the ones you need if you prefer.
 */
#ifndef RILL_H
#define RILL_H

#include "rill/export.h"
#include "rill/version.h"
#include "rill/error.h"
#include "rill/alloc.h"
#include "rill/log.h"
#include "rill/stream.h"
#include "rill/json.h"
#include "rill/client.h"
#include "rill/request.h"
#include "rill/chat.h"
#include "rill/models.h"
#include "rill/embeddings.h"
#include "rill/gguf.h"
#include "rill/embed.h"

#endif /* RILL_H */

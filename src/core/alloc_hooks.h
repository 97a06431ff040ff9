/*
 * Installing the allocator. Only src/http/global.c calls this, from
 * rill_global_init / rill_global_cleanup, because installing it and handing
 * it to curl must happen together.
 */
#ifndef RILL_CORE_ALLOC_HOOKS_H
#define RILL_CORE_ALLOC_HOOKS_H

#include "rill/alloc.h"

/* a NULL: back to the C library's allocator. */
void rill__alloc_install(const rill_allocator *a);

#endif

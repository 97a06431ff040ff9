/*
 * rill/export.h — symbol visibility. The library is built with
 * -fvisibility=hidden; only declarations marked RILL_API are exported.
 */
#ifndef RILL_EXPORT_H
#define RILL_EXPORT_H

#if defined(RILL_BUILDING_LIBRARY) && defined(__GNUC__)
#define RILL_API __attribute__((visibility("default")))
#else
#define RILL_API
#endif

#endif /* RILL_EXPORT_H */

/*
 * The C locale as a locale_t, made once per process, for strtod_l and for
 * the writer's uselocale() guard around snprintf: numbers must read and
 * print the same whatever locale the application selected (editors pass
 * LC_ALL and "" to setlocale and may get ',' as the decimal point).
 * Needs POSIX 2008 (the library is built with _GNU_SOURCE).
 */
#ifndef RILL_JSON_C_LOCALE_H
#define RILL_JSON_C_LOCALE_H

#include <locale.h>

/* The C locale, or (locale_t)0 if it could not be made (out of memory).
 * Thread: any; created once under pthread_once. Never freed (it lives as
 * long as the process; glibc returns a static object for "C"). */
locale_t rill__json_c_locale(void);

#endif

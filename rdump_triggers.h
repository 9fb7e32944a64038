/*
 * ext-rdump's automatic dumps, PHP side (rdump_triggers.c): the OOM hook,
 * rdump_set_oom_dump() and signal dumps. rdump.c calls these from its
 * module and request hooks.
 */
#ifndef RDUMP_TRIGGERS_H
#define RDUMP_TRIGGERS_H

#include "php.h"

void rdump_triggers_minit(void);
void rdump_triggers_mshutdown(void);
void rdump_triggers_rinit(void);
void rdump_triggers_rshutdown(void);

/* Fills so with the INI defaults of every dump (defined in rdump.c). */
struct rdump_self_opts;
void rdump_ini_dump_opts(struct rdump_self_opts *so);

PHP_FUNCTION(rdump_set_oom_dump);

#endif

/* rdump.huge_pages: ZendMM's chunks on transparent huge pages during requests (rdump_huge_pages.c). */
#ifndef RDUMP_HUGE_PAGES_H
#define RDUMP_HUGE_PAGES_H

/* Why this request's chunks are, or are not, on huge pages (RDUMP_G(huge_pages_state)). */
#define RDUMP_HP_OFF            0
#define RDUMP_HP_ON             1
#define RDUMP_HP_NO_THP         2
#define RDUMP_HP_CUSTOM_HEAP    3
#define RDUMP_HP_OTHER_STORAGE  4
#define RDUMP_HP_UNKNOWN_LAYOUT 5
#define RDUMP_HP_DEBUG_BUILD    6

void rdump_huge_pages_rinit(void);
void rdump_huge_pages_rshutdown(void);
/* For phpinfo(): the state of the current request. */
const char *rdump_huge_pages_describe(void);

#endif

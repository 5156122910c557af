/* Shared between group.c and group_scan.c; not part of the public contract. */
#ifndef CHATKEEPER_GROUP_INTERNAL_H
#define CHATKEEPER_GROUP_INTERNAL_H

#include <stddef.h>

#include "chatkeeper/group.h"

/* Content words of the scanner's k-th question (0 past the last). */
size_t ck_group__qwords(const struct ck_group_scanner *s, size_t k);

#endif

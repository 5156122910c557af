/* Helpers shared by series_file.c and series_dir.c. */
#ifndef CHATKEEPER_SERIES_INT_H
#define CHATKEEPER_SERIES_INT_H

#include <stdbool.h>
#include <stdint.h>

/* dir + "/" + rel, or rel when it is absolute (or dir is "."). NULL on OOM. */
char *ck_series_join(const char *dir, const char *rel);

/* *p = a copy of path, *dir = its folder ("." when none). Returns 0 or CK_ENOMEM. */
int ck_series_split(const char *path, char **p, char **dir);

#endif

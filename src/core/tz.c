/* being written */
extern int ck_placeholder_tz;

/* Short-lived JSON trees built in one reused block (jansson's allocator hook).
 *
 * Reading a journal builds and frees one tree per line, about a hundred small
 * allocations each; a million lines spend a tenth of their parsing time in
 * malloc and free. Between ck_jarena_begin and ck_jarena_end, jansson
 * allocates from a block that ck_jarena_reset empties after each tree, and
 * frees into it for nothing; what does not fit (a huge line) still comes from
 * malloc, and what was malloc'ed before still goes back to free.
 *
 * Only for code that keeps nothing jansson allocated past the reset: a JSON
 * value made in the window (a copy, a new object) must be gone before the
 * next ck_jarena_reset. One thread, one window at a time. */
#ifndef CHATKEEPER_JARENA_H
#define CHATKEEPER_JARENA_H

#include <stddef.h>

/* Open the window with a block of cap bytes. Returns 0, or CK_ENOMEM (the
 * window is then not open and jansson keeps using malloc). */
int ck_jarena_begin(size_t cap);

/* Every tree made since the last reset has been freed: reuse the block. */
void ck_jarena_reset(void);

/* Close the window: jansson allocates with malloc again. */
void ck_jarena_end(void);

#endif

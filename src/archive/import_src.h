/* Private to src/archive: one input of `chatkeeper import` read as twarc reads
 * its inputs: a plain file, a gzip file (by its magic bytes, not its name)
 * or "-" for standard input, line by line through one growing buffer.
 *
 * Format detection has to look at the first lines before anything is
 * journaled, and a first line that is not JSON on its own may start one
 * value spread over the file; standard input cannot seek, so the source
 * keeps every byte from the start while it is held (ck_src_hold) and can go
 * back to any offset kept. Released, it keeps only the current line. */
#ifndef CHATKEEPER_CORE_IMPORT_SRC_H
#define CHATKEEPER_CORE_IMPORT_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <zlib.h>

#include "chatkeeper/error.h"
#include "chatkeeper/import.h"

struct ck_src {
    const char *path; /* borrowed: as given ("-" for standard input) */
    const char *name; /* for messages: path, or "stdin" */
    gzFile gz;
    char *buf;
    size_t start, pos, end, cap; /* bytes [start, end) in buf; pos reads on */
    size_t scanned;              /* [pos, scanned) holds no newline */
    uint64_t base;               /* stream offset of buf[0] */
    bool held, eof, checked;
    bool truncated; /* a gzip stream that ends early: read up to the cut */
    int64_t size;   /* bytes of the file as stored (compressed), or -1 (a pipe) */
    /* progress */
    bool tty, drawn;
    uint64_t next_at;  /* raw bytes read at which to look again */
    int64_t last_draw; /* monotonic ms */
    char shown[256];   /* the progress line on the terminal, to redraw */
};

/* Open path ("-": a dup of standard input) for reading, held from its first
 * byte. Returns 0, CK_ENOTFOUND (with strerror's words) or CK_ENOMEM. */
int ck_src_open(struct ck_src *s, const char *path, struct ck_error *err);
void ck_src_close(struct ck_src *s);

/* The next line, '\n' included when there is one: *line points into the
 * source's buffer and is valid until the next call. Returns 1, 0 at the
 * end (s->truncated says whether a gzip stream was cut short), CK_EIO (read
 * error), CK_EPARSE (corrupt gzip data, another compressor's file: err says
 * which) or CK_ENOMEM. */
int ck_src_line(struct ck_src *s, const char **line, size_t *len, struct ck_error *err);

/* Offsets in the decompressed stream: where the next read starts, and a
 * return to one (only to an offset read while held). */
uint64_t ck_src_tell(const struct ck_src *s);
void ck_src_seek(struct ck_src *s, uint64_t offset);
void ck_src_release(struct ck_src *s);

/* Parse one JSON value from the current offset to the end of the stream
 * (jansson's json_load_callback over the buffer). New reference or NULL;
 * jerr says why. */
json_t *ck_src_load_rest(struct ck_src *s, json_error_t *jerr);

/* Bytes of the stored file read so far (compressed bytes taken in for a
 * gzip file), for progress against s->size. */
uint64_t ck_src_raw_read(const struct ck_src *s);

/* Progress on stderr for inputs over 16 MB (or of unknown size): a line
 * redrawn in place when stderr is a terminal (erased around log lines),
 * else an info line every 64 MB. ck_src_progress is cheap enough to call per
 * line; ck_src_progress_end erases the line. */
void ck_src_progress(struct ck_src *s, size_t objects);
void ck_src_progress_end(struct ck_src *s);

/* Whether line[0..n) is only spaces, tabs and line ends. */
bool ck_src_blank(const char *line, size_t n);

/* What the first objects of a file are (import_detect.c). */
struct ck_sniff {
    size_t lines;    /* non-blank lines (a value over the whole file counts as 1) */
    size_t not_json; /* of them, lines that are not JSON */
    size_t objects;  /* JSON values, array elements counted one by one */
    size_t kinds[CK_IMPORT_KINDS];
    bool whole; /* the file is one JSON value over several lines */
    bool all;   /* read to its end */
};

/* Read on from the current offset, classifying, until enough is known
 * (limited: 50 objects of a known kind, 1000 lines or 16 MB) or the end.
 * Returns 0 or a read error (ck_src_line's). */
int ck_sniff_run(struct ck_src *s, struct ck_sniff *sn, bool limited, struct ck_error *err);
/* The kind most of the classified objects are, or CK_IMPORT_UNKNOWN. */
enum ck_import_kind ck_sniff_kind(const struct ck_sniff *sn);

/* Sniff src[0..n) (held, at their start; on success each is at its start
 * again: files reopened, standard input still held), fill sn[i], and choose
 * the format: given (NULL: the first non-empty file's). Returns
 * 0 with *format set ("mastodon", "twarc") and *kind the first non-empty
 * file's kind; CK_EPARSE with one line in err when a file holds nothing
 * importable, Bluesky, or another format than given or than the file before
 * it (counted to its end for the line), or when every file is empty; or a
 * read error. */
int ck_sniff_choose(struct ck_src *src, struct ck_sniff *sn, size_t n, const char *given,
                    const char **format, enum ck_import_kind *kind, struct ck_error *err);

/* `import DIR/`: files with every folder among them replaced by the files
 * in it (regular files named .json, .jsonl or .ndjson, maybe .gz, not
 * hidden ones, in name order; one level), so a
 * folder of twarc captures reads as those files given in order. *out: owned
 * copies (free with ck_src_expand_free). A folder with no files is
 * CK_ENOTFOUND. */
int ck_src_expand(const char *const *files, size_t n, char ***out, size_t *n_out,
                  struct ck_error *err);
void ck_src_expand_free(char **files, size_t n);

#endif

/* messages.csv: one RFC 4180 row per line of messages.jsonl, boosts included
 * (boost_of says which), written as the model's single pass reads the lines.
 *
 * Every cell goes through ck_csv_field, which quotes it when needed and
 * neutralises a leading = + - @ tab or CR. That includes handles ("@a@b"
 * becomes "'@a@b"): a spreadsheet that treats '@' as a formula prefix must
 * not get a chance to, and a consistent rule beats a clever one. */
#include <stdio.h>
#include <string.h>

#include "model.h"

static const char header[] = "id,created_at,local_time,author_handle,author_name,questions,"
                             "assigned_by,reply_to,boost_of,likes,boosts,replies,url,text\r\n";

void ck_rcsv_header(struct ck_sink *csv)
{
    ck_sink_puts(csv, header);
}

static void cell(struct ck_sink *csv, const char *v, bool last)
{
    ck_csv_field(csv, v, strlen(v));
    ck_sink_puts(csv, last ? "\r\n" : ",");
}

static void count_cell(struct ck_sink *csv, const json_t *counts, const char *key)
{
    char num[32];
    const json_t *v = json_object_get(counts, key);
    if (json_is_integer(v))
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        num[0] = '\0';
    cell(csv, num, false);
}

void ck_rcsv_row(struct ck_rmodel *m, struct ck_sink *csv, const json_t *msg, int64_t created_ms)
{
    const json_t *author = json_object_get(msg, "author");
    const json_t *counts = json_object_get(msg, "counts");
    char local[40] = "";
    struct ck_rlocal lt;
    if (ck_rmodel_local(m, created_ms, &lt) == 0)
        snprintf(local, sizeof local, "%04d-%02d-%02d %02d:%02d:%02d", lt.year % 10000, lt.month,
                 lt.day, lt.hour, lt.minute, lt.second);
    /* "1;2": a semicolon, so the list stays one cell in any spreadsheet. */
    char qs[128] = "";
    size_t ql = 0;
    const json_t *arr = json_object_get(msg, "questions");
    for (size_t i = 0; i < json_array_size(arr) && ql + 24 < sizeof qs; i++) {
        const json_t *q = json_array_get(arr, i);
        if (!json_is_integer(q))
            continue;
        int n = snprintf(qs + ql, sizeof qs - ql, "%s%" JSON_INTEGER_FORMAT, ql ? ";" : "",
                         json_integer_value(q));
        if (n > 0)
            ql += (size_t)n;
    }
    cell(csv, ck_rjson_str(msg, "id"), false);
    cell(csv, ck_rjson_str(msg, "created_at"), false);
    cell(csv, local, false);
    cell(csv, ck_rjson_str(author, "handle"), false);
    cell(csv, ck_rjson_str(author, "name"), false);
    cell(csv, qs, false);
    cell(csv, ck_rjson_str(msg, "assigned_by"), false);
    cell(csv, ck_rjson_str(msg, "reply_to"), false);
    cell(csv, ck_rjson_str(msg, "boost_of"), false);
    count_cell(csv, counts, "likes");
    count_cell(csv, counts, "boosts");
    count_cell(csv, counts, "replies");
    cell(csv, ck_rjson_str(msg, "url"), false);
    cell(csv, ck_rjson_str(msg, "text"), true);
}

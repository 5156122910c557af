/* messages.csv: one RFC 4180 row per line of messages.jsonl, boosts included
 * (boost_of says which), written as the model's single pass reads the records.
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

static void count_cell(struct ck_sink *csv, int64_t v)
{
    char num[24] = "";
    if (v != CK_RECORD_NO_COUNT)
        ck_rfmt_int(num, v);
    cell(csv, num, false);
}

void ck_rcsv_row(struct ck_rmodel *m, struct ck_sink *csv, const struct ck_record *r)
{
    char local[40] = "";
    struct ck_rlocal lt;
    if (ck_rmodel_local(m, r->created_ms, &lt) == 0) {
        /* "2026-12-03 20:05:00": the ISO form's first 19 characters, T made a space. */
        char iso[32];
        ck_rlocal_iso(&lt, iso, sizeof iso);
        memcpy(local, iso, 19);
        local[10] = ' ';
        local[19] = '\0';
    }
    /* "1;2": a semicolon, so the list stays one cell in any spreadsheet. */
    char qs[128] = "";
    size_t ql = 0;
    for (size_t i = 0; i < r->n_questions && ql + 26 < sizeof qs; i++) {
        if (ql > 0)
            qs[ql++] = ';';
        ql += ck_rfmt_int(qs + ql, r->questions[i]);
    }
    cell(csv, r->id, false);
    cell(csv, r->created_at, false);
    cell(csv, local, false);
    cell(csv, r->handle, false);
    cell(csv, r->name, false);
    cell(csv, qs, false);
    cell(csv, r->assigned_by != NULL ? r->assigned_by : "", false);
    cell(csv, r->reply_to != NULL ? r->reply_to : "", false);
    cell(csv, r->boost_of != NULL ? r->boost_of : "", false);
    count_cell(csv, r->likes);
    count_cell(csv, r->boosts);
    count_cell(csv, r->replies);
    cell(csv, r->url, false);
    cell(csv, r->text, true);
}

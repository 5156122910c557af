/* chatkeeper publish DIR [--dry-run] [--no-platform]: deliver the write-up of
 * the chat archived in DIR to the targets its session file names.
 * Exit status: 0 published (or nothing wrong in a dry run), else
 * ck_exit_status: 1 a target failed (what was already published is said),
 * 2 bad usage or bad input (no publish section, an unset password variable). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chatkeeper/cli.h"
#include "chatkeeper/publish.h"

static const struct ck_cli_opt cli_opts[] = {
    {"dry-run", NULL, "print what would be sent where; send and write nothing"},
    {"no-platform", NULL, "skip the platform: no re-check, no announcement"},
    {NULL, NULL, NULL},
};

/* The fields src/session/config.c (parse_publish) accepts and src/publish/ reads. */
static const char session_section[] =
    "The session file's \"publish\" section (all optional; see docs/session.md\n"
    "for every field of the session file):\n"
    "  wordpress.url            the blog's address (https, or http on loopback)\n"
    "  wordpress.user           the WordPress user to post as\n"
    "  wordpress.password_env   environment variable with its application password,\n"
    "  wordpress.password_file  or a file only its owner may read (mode 0600)\n"
    "  wordpress.status         draft (default), publish, pending or private\n"
    "  wordpress.categories     category names, created when missing\n"
    "  wordpress.tags           tag names, created when missing\n"
    "  micropub.endpoint        a Micropub endpoint: an h-entry is posted there\n"
    "  micropub.token_env       environment variable with its bearer token,\n"
    "  micropub.token_file      or a 0600 file\n"
    "  micropub.categories      categories of the h-entry\n"
    "  announce                 true: post a link to the write-up on the hashtag\n"
    "  template                 the write-up's Markdown template, relative to the\n"
    "                           session file (default: a built-in copy of\n"
    "                           config/writeup.md.tmpl)\n"
    "  transcript_url           where the transcript is online, for the write-up\n"
    "\n"
    "For example:\n"
    "  \"publish\": {\n"
    "    \"wordpress\": {\"url\": \"https://blog.example.org\", \"user\": \"editor\",\n"
    "                  \"password_env\": \"WP_APP_PASSWORD\", \"status\": \"draft\",\n"
    "                  \"categories\": [\"Chats\"], \"tags\": [\"uklibchat\"]},\n"
    "    \"micropub\": {\"endpoint\": \"https://example.org/micropub\",\n"
    "                 \"token_env\": \"MICROPUB_TOKEN\"},\n"
    "    \"announce\": true\n"
    "  }\n";

static const struct ck_cli_cmd cmd = {
    .name = "publish",
    .args = "DIR",
    .min_args = 1,
    .max_args = 1,
    .about = "Publish the write-up of the chat archived in DIR to the targets in its\n"
             "session file's \"publish\" section: a WordPress post (draft by default),\n"
             "a Micropub h-entry, and with \"announce\": true a post on the hashtag\n"
             "linking to it. Publishing again updates the same posts (state.json).\n"
             "Quoted posts are first looked up on the platform; deleted ones are left\n"
             "out and listed in DIR/deleted.json.\n",
    .opts = cli_opts,
    .more = session_section,
};

int ck_cli_publish(int argc, char **argv)
{
    struct ck_cli_args a;
    int st = ck_cli_parse_dir(&cmd, argc, argv, &a);
    if (st != CK_CLI_GO)
        return st;
    struct ck_publish_opts o = {
        .dry_run = ck_cli_flag(&a, "dry-run"),
        .no_platform = ck_cli_flag(&a, "no-platform"),
    };
    struct ck_error err = {0};
    int rc = ck_publish_session(a.args[0], &o, &err);
    return rc == 0 ? 0 : ck_cli_fail(cmd.name, rc, &err);
}

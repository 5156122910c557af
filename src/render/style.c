/* The shared page style (style.h). Plain CSS: nothing is fetched (no fonts,
 * no url()), so every page stays self-contained. */
#include "style.h"

const char ck_rstyle_base[] =
    ":root{color-scheme:light dark;--fg:#1a1a1a;--bg:#fff;--muted:#555;--link:#1a5490;"
    "--rule:#d6d6d6}\n"
    "@media (prefers-color-scheme: dark){:root{--fg:#e6e6e6;--bg:#15171a;--muted:#a9adb3;"
    "--link:#8fb8ff;--rule:#3b3f45}}\n"
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,"
    "sans-serif;line-height:1.5;max-width:44rem;margin:0 auto;padding:1rem;color:var(--fg);"
    "background:var(--bg);overflow-wrap:anywhere}\n"
    "h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2.5rem;"
    "border-bottom:1px solid var(--rule)}\n"
    "a{color:var(--link)}img{max-width:100%;height:auto}\n"
    "blockquote{margin:1rem 0;padding-left:1rem;border-left:3px solid var(--rule)}\n"
    "hr{border:0;border-top:1px solid var(--rule)}\n";

/* Private to src/render: the CSS every page of the archive shares
 * (transcript.html, index.html, writeup.html), so the three read alike and a
 * change of colour or measure is made once.
 *
 * The base sets a readable measure (44rem, system fonts, line height 1.5),
 * colours through custom properties, and a dark scheme under
 * prefers-color-scheme: dark. Pages append their own rules after it and use
 * the same properties (--muted, --rule, ...), so they follow the scheme. */
#ifndef CHATKEEPER_RENDER_STYLE_H
#define CHATKEEPER_RENDER_STYLE_H

/* CSS text, newline-terminated, with no "</" in it (safe inside <style>). */
extern const char ck_rstyle_base[];

#endif

/* Private to src/text: libxml2, loaded the first time HTML outside Mastodon's
 * subset needs it (xml_load.c says why). Only libxml2's headers are compiled
 * in; its functions are reached through this table. */
#ifndef CK_TEXT_XML_LOAD_H
#define CK_TEXT_XML_LOAD_H

#include <libxml/HTMLparser.h>
#include <libxml/dict.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>

/* The soname the headers we compiled against belong to: libxml2 2.14 changed
 * it from .so.2 (and its ABI with it), so the headers decide, not a guess. */
#if LIBXML_VERSION >= 21400
#define CK_XML_SONAME "libxml2.so.16"
#else
#define CK_XML_SONAME "libxml2.so.2"
#endif

/* Every libxml2 function src/text calls. Each member is typed from libxml2's
 * own declaration (__typeof__), so calls are checked as if linked directly. */
#define CK_XML_FUNCS(X)                                                                            \
    X(xmlInitParser)                                                                               \
    X(htmlNewParserCtxt)                                                                           \
    X(htmlFreeParserCtxt)                                                                          \
    X(htmlCtxtReadMemory)                                                                          \
    X(xmlStopParser)                                                                               \
    X(xmlFreeDoc)                                                                                  \
    X(xmlDictSize)

struct ck_xml {
#define CK_XML_MEMBER(name) __typeof__(name) *name;
    CK_XML_FUNCS(CK_XML_MEMBER)
#undef CK_XML_MEMBER
};

/* libxml2's functions: on the first call the library is loaded and
 * xmlInitParser run once. NULL when it cannot be loaded (missing, or a
 * function missing from it), logged once as an error naming libxml2; every
 * later call gives NULL again without trying (callers then strip tags, see
 * html_strip.c). */
const struct ck_xml *ck_text__xml(void);

/* Tests: load soname instead of CK_XML_SONAME. Only before the first
 * ck_text__xml() of the process: a library once loaded stays. */
void ck_text__xml_soname(const char *soname);

#endif

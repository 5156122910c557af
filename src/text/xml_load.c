/* libxml2, loaded on first use.
 *
 * The fast path (html_fast.c) reads every status Mastodon and the simulator
 * write, so while following a hashtag libxml2's code never runs. Linked, it
 * was loaded at start all the same, with what it needs: libicuuc, libstdc++
 * and liblzma, about 1.8 MB resident in `run` from relocations and static
 * constructors alone (of a 15 MB budget). dlopen when some HTML first needs
 * the real parser costs nothing until then.
 *
 * RTLD_LOCAL keeps its symbols out of the global namespace (nothing else
 * should bind to them by accident), RTLD_LAZY binds its own imports as they
 * are called. The handle is never closed: the parser context html_text.c
 * keeps points into the library. One thread; a fork (archive builds) inherits
 * the loaded library and the state alike. */
#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#include "chatkeeper/log.h"

#include "xml_load.h"

/* dlsym gives a void *; POSIX guarantees a function pointer has its size. */
_Static_assert(sizeof(void (*)(void)) == sizeof(void *), "function pointers fit void *");

static const char *soname = CK_XML_SONAME;
static enum { UNTRIED, LOADED, FAILED } state;
static struct ck_xml xml;

void ck_text__xml_soname(const char *name)
{
    soname = name;
}

/* Set *fn (a function pointer of n bytes) from the library's symbol name.
 * memcpy, because ISO C has no cast from void * to a function pointer. */
static bool resolve(void *lib, const char *name, void *fn, size_t n)
{
    void *sym = dlsym(lib, name);
    if (sym == NULL)
        return false;
    memcpy(fn, &sym, n);
    return true;
}

/* What the user reads once: which library, why, and what they get instead. */
static void log_failure(const char *what)
{
    ck_err("text: libxml2 (%s) cannot be used: %s; HTML outside Mastodon's own subset is shown "
           "with its tags stripped (install libxml2 for the full parser)",
           soname, what);
}

static bool load(void)
{
    void *lib = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        log_failure(why != NULL ? why : "not found");
        return false;
    }
#define CK_XML_RESOLVE(name)                                                                       \
    if (!resolve(lib, #name, &xml.name, sizeof xml.name)) {                                        \
        log_failure("it has no " #name);                                                           \
        dlclose(lib);                                                                              \
        memset(&xml, 0, sizeof xml);                                                               \
        return false;                                                                              \
    }
    CK_XML_FUNCS(CK_XML_RESOLVE)
#undef CK_XML_RESOLVE
    /* Once, before any parser: it sets up libxml2's globals (the
     * dictionary's random seed, the default SAX handlers, its memory hooks). */
    xml.xmlInitParser();
    return true;
}

const struct ck_xml *ck_text__xml(void)
{
    if (state == UNTRIED)
        state = load() ? LOADED : FAILED;
    return state == LOADED ? &xml : NULL;
}

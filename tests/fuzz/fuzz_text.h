/*
 * fuzz_text.h — the input of a fuzz target whose first byte picks what to parse and whose rest is text
 * (fuzz_catalog, fuzz_versions): parsers read NUL-terminated text, as files and arguments are read.
 */
#ifndef REHEARSE_FUZZ_TEXT_H
#define REHEARSE_FUZZ_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* data[1..size) as a malloc'd NUL-terminated text; *second: the text after its first NUL ("" when there is
   none), for a parser that takes two. NULL for an empty input (size 0). */
static char *fuzz_text(const uint8_t *data, size_t size, const char **second)
{
    if (size < 1)
        return NULL;
    size_t len = size - 1;
    char *text = malloc(len + 2);
    if (!text)
        abort();
    memcpy(text, data + 1, len);
    text[len] = text[len + 1] = '\0';
    *second = text + strlen(text) + 1;
    return text;
}

#endif

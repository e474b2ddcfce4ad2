/* Option values shared by the subcommands: durations and ALPN lists. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

int tool_parse_duration(const char *text, uint64_t *ns)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || v < 0) return -1;
    double scale;
    if (!strcmp(end, "") || !strcmp(end, "s")) scale = 1e9;
    else if (!strcmp(end, "ms")) scale = 1e6;
    else if (!strcmp(end, "us")) scale = 1e3;
    else if (!strcmp(end, "m")) scale = 60e9;
    else return -1;
    double total = v * scale;
    if (total > 1e18) return -1;
    *ns = (uint64_t)total;
    return 0;
}

int tool_parse_alpn(const char *list, const char **names, size_t max, char **storage)
{
    char *copy = strdup(list);
    if (!copy) return -1;
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max || strlen(tok) > 255) {
            free(copy);
            return -1;
        }
        names[n++] = tok;
    }
    if (n == 0) {
        free(copy);
        return -1;
    }
    *storage = copy;
    return (int)n;
}

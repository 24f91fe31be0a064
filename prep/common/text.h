/* prep/common: the helpers every folder may use (logging, strings,
 * host commands, text editing, unit-test macros); they name nothing
 * outside prep/common.  This header: text files edited line by line
 * and shell-variable files (lines.c, shellvars.c). */
#ifndef AZPREP_COMMON_TEXT_H
#define AZPREP_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Text files as lines (prep/common/lines.c). */
struct lines { char **l; size_t n; };
int lines_split (struct lines *ls, const char *text);
char *lines_join (const struct lines *ls);
void lines_free (struct lines *ls);
int lines_insert (struct lines *ls, size_t at, const char *s);
void lines_delete (struct lines *ls, size_t at);
/* Indentation (spaces/tabs) of a line; is it blank or a comment? */
size_t line_indent (const char *l);
bool line_blank_or_comment (const char *l, char comment);

/* Shell-variable files: /etc/default/grub, ifcfg, sysconfig
 * (prep/common/shellvars.c).
 * kv_get returns the unquoted value of the last KEY= line, or NULL.
 * kv_set returns the content with KEY set (replacing every KEY= line
 * in place, else appending), quoting value with double quotes. */
char *kv_get (const char *content, const char *key);
char *kv_set (const char *content, const char *key, const char *value);
/* Remove every KEY= line. */
char *kv_remove (const char *content, const char *key);
/* One line (up to '\n' or NUL): if it assigns KEY, its unquoted value
 * (a quoted value ends at its closing quote; a comment after it is not
 * part of it), or the line with the value replaced, keeping its
 * prefix (blanks, "export"), its quotes where they can stay and what
 * follows the value.  NULL when the line does not assign KEY; replace:
 * also (reported) when the value is unquoted with quotes, backslashes or
 * backquotes in it, which requoting would change. */
char *kv_line_value (const char *line, const char *key);
char *kv_line_replace (const char *line, const char *key, const char *value);
/* Why kv_line_replace would refuse this line (a static string), or
 * NULL when it would edit it or the line does not assign KEY. */
const char *kv_line_uneditable (const char *line, const char *key);

/* Word lists (kernel command lines, module lists): has, add, remove a
 * word or a KEY=... word.  Results are new strings. */
bool words_has (const char *words, const char *word);
char *words_set (const char *words, const char *word);
char *words_remove (const char *words, const char *word);

#endif /* AZPREP_COMMON_TEXT_H */

/*
 * profile_text.c - the profile table, for people (docs/profile.md).
 * Formatting only: the runtime (profile.c) and the lockwatch command
 * (tools/profile.c) fill the same rows, from the run or from a JSON
 * document, and get the same text.
 */
#include <stdio.h>
#include <string.h>

#include "profile.h"

const char *lw_prof_where(char *buf, size_t len, const char *function, const char *file,
                          int line, const char *module, uintptr_t offset) {
  size_t k = 0;
  buf[0] = 0;
#define LW_WHERE_ADD(...)                                                       \
  do {                                                                          \
    if (k < len) {                                                              \
      int w = snprintf(buf + k, len - k, __VA_ARGS__);                          \
      k += w > 0 ? (size_t)w : 0;                                               \
    }                                                                           \
  } while (0)
  if (file) {
    const char *slash = strrchr(file, '/');
    LW_WHERE_ADD("%s:%d", slash ? slash + 1 : file, line);
  }
  if (function) LW_WHERE_ADD("%s%s", k ? " in " : "", function);
  if (module) {
    const char *slash = strrchr(module, '/');
    LW_WHERE_ADD("%s(%s+0x%lx)", k ? " " : "", slash ? slash + 1 : module,
                 (unsigned long)offset);
  }
  if (!k) LW_WHERE_ADD("an unknown place");
#undef LW_WHERE_ADD
  return buf;
}

/* Nanoseconds as milliseconds with 3 decimals. */
static void ms(lw_buf_t *b, int width, uint64_t ns) {
  lw_buf_printf(b, " %*llu.%03llu", width - 4, (unsigned long long)(ns / 1000000),
                (unsigned long long)(ns / 1000 % 1000));
}

static void sites(lw_buf_t *b, const char *what, const char *unit, const lw_prof_trow_site_t *s,
                  uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    lw_buf_printf(b, "          %s %s: %llu %s%s, ", what, s[i].where ? s[i].where : "other places",
                  (unsigned long long)s[i].count, unit, s[i].count == 1 ? "" : "s");
    lw_buf_printf(b, "%llu.%03llu ms", (unsigned long long)(s[i].ns / 1000000),
                  (unsigned long long)(s[i].ns / 1000 % 1000));
    lw_buf_printf(b, " (longest %llu.%03llu ms)\n", (unsigned long long)(s[i].max_ns / 1000000),
                  (unsigned long long)(s[i].max_ns / 1000 % 1000));
  }
}

void lw_prof_format_table(lw_buf_t *b, const lw_prof_table_t *t) {
  lw_buf_printf(b, "lockwatch: profile of %s: %llu lock%s acquired %llu time%s, %llu contended, "
                "%llu.%03llu ms of waiting\n",
                t->whose, (unsigned long long)t->locks, t->locks == 1 ? "" : "s",
                (unsigned long long)t->acquisitions, t->acquisitions == 1 ? "" : "s",
                (unsigned long long)t->contended, (unsigned long long)(t->wait_ns / 1000000),
                (unsigned long long)(t->wait_ns / 1000 % 1000));
  if (!t->nrows) return;
  lw_buf_printf(b, "  the %u lock%s that made threads wait longest; times in ms; hold times "
                "estimated from 1 acquisition in %u\n",
                t->nrows, t->nrows == 1 ? "" : "s", t->sample_every);
  lw_buf_puts(b, "     #     acquired    contended   wait total     wait max   hold total     "
                 "hold max  lock\n");
  for (uint32_t i = 0; i < t->nrows; i++) {
    const lw_prof_trow_t *r = &t->rows[i];
    lw_buf_printf(b, "  %4u %12llu %12llu", i + 1, (unsigned long long)r->acquisitions,
                  (unsigned long long)r->contended);
    ms(b, 12, r->wait_ns);
    ms(b, 12, r->wait_max_ns);
    ms(b, 12, r->hold_ns);
    ms(b, 12, r->hold_max_ns);
    lw_buf_printf(b, "  %s", r->id);
    if (r->name) lw_buf_printf(b, " %s", r->name);
    lw_buf_printf(b, " (%s", r->type);
    if (r->nlocks > 1 || r->destroyed)
      lw_buf_printf(b, ", %llu %slock%s", (unsigned long long)r->nlocks,
                    r->destroyed ? "destroyed " : "", r->nlocks == 1 ? "" : "s");
    if (r->process) lw_buf_printf(b, ", %s", r->process);
    lw_buf_puts(b, ")\n");
    if (r->created && !r->name) lw_buf_printf(b, "          created at %s\n", r->created);
    sites(b, "contended at", "time", r->wait_sites, r->nwait_sites);
    sites(b, "held from", "sample", r->hold_sites, r->nhold_sites);
  }
}

/*
 * report_text.c - the text form of a report, for people (see
 * docs/report-format.md). Formatting only: every decision about what a
 * report contains was made when it was built.
 */
#include <stdio.h>
#include <unistd.h>

#include "depot.h"
#include "report.h"
#include "symbolize.h"
#include "thread.h"
#include "types.h"

static void text_frames(lw_buf_t *b, uint32_t stack) {
  uint32_t n;
  const uintptr_t *pcs = lw_depot_get(&lw_stacks, stack, &n);
  if (!n) {
    lw_buf_puts(b, "    <no stack>\n");
    return;
  }
  for (uint32_t i = 0; i < n; i++) {
    lw_frame_t f;
    lw_symbolize_pc(pcs[i], &f);
    lw_buf_printf(b, "    #%u", i);
    if (f.function) lw_buf_printf(b, " %s", f.function);
    else lw_buf_printf(b, " 0x%lx", (unsigned long)f.pc);
    if (f.file) lw_buf_printf(b, " %s:%d", f.file, f.line);
    if (f.module) lw_buf_printf(b, " (%s+0x%lx)", lw_basename(f.module), (unsigned long)f.offset);
    lw_buf_puts(b, "\n");
  }
}

static void text_lock_name(lw_buf_t *b, const lw_rlock_t *l) {
  char name[256];
  if (lw_symbolize_data(l->addr, name, sizeof name))
    lw_buf_printf(b, "M%llu (%s, 0x%lx)", (unsigned long long)l->id, name, (unsigned long)l->addr);
  else
    lw_buf_printf(b, "M%llu (0x%lx)", (unsigned long long)l->id, (unsigned long)l->addr);
}

static const char *mode_note(const lw_rlock_t *l, unsigned mode) {
  if (l->type != LW_TYPE_RWLOCK) return "";
  return mode == LW_MODE_READ ? " for reading" : " for writing";
}

static void text_thread(lw_buf_t *b, uint32_t seq) {
  lw_thread_info_t info;
  if (!lw_thread_info(seq, &info)) return;
  if (info.tid == getpid()) {
    lw_buf_printf(b, "  Thread T%u (tid %d) is the main thread.\n", seq, (int)info.tid);
    return;
  }
  if (info.parent)
    lw_buf_printf(b, "  Thread T%u (tid %d) created by thread T%u at:\n", seq, (int)info.tid,
                  info.parent - 1);
  else
    lw_buf_printf(b, "  Thread T%u (tid %d), created before lockwatch started or outside "
                  "pthread_create.\n", seq, (int)info.tid);
  if (info.parent) text_frames(b, info.create_stack);
}

/* Writes "function file:line" of the innermost frame of stack. */
static void text_where(lw_buf_t *b, uint32_t stack) {
  uint32_t n;
  const uintptr_t *pcs = lw_depot_get(&lw_stacks, stack, &n);
  lw_frame_t f;
  if (!n) return;
  lw_symbolize_pc(pcs[0], &f);
  if (f.file) lw_buf_printf(b, " %s:%d", f.file, f.line);
  if (f.function) lw_buf_printf(b, " in %s", f.function);
}

static void text_inversion(const lw_report_t *r, lw_buf_t *b) {
  lw_buf_puts(b, "  Cycle in lock order graph: ");
  for (uint32_t i = 0; i < r->nedges; i++) {
    text_lock_name(b, &r->locks[r->edges[i].from]);
    lw_buf_puts(b, " => ");
  }
  lw_buf_printf(b, "M%llu\n", (unsigned long long)r->locks[r->edges[0].from].id);
  for (uint32_t i = 0; i < r->nedges; i++) {
    const lw_redge_t *e = &r->edges[i];
    const lw_rlock_t *from = &r->locks[e->from], *to = &r->locks[e->to];
    lw_buf_printf(b, "\n  M%llu acquired%s here while holding M%llu%s in thread T%u:\n",
                  (unsigned long long)to->id, mode_note(to, e->to_mode),
                  (unsigned long long)from->id, mode_note(from, e->from_mode), e->w.thread);
    text_frames(b, e->w.stack_to);
    lw_buf_printf(b, "\n  M%llu previously acquired%s by thread T%u here:\n",
                  (unsigned long long)from->id, mode_note(from, e->from_mode), e->w.thread);
    text_frames(b, e->w.stack_from);
    if (e->other_thread)
      lw_buf_printf(b, "  (thread T%u also took M%llu while holding M%llu)\n", e->other_thread - 1,
                    (unsigned long long)to->id, (unsigned long long)from->id);
  }
  for (uint32_t i = 0; i < r->nlocks; i++) {
    char name[256];
    const lw_rlock_t *l = &r->locks[i];
    if (lw_symbolize_data(l->addr, name, sizeof name)) continue;
    lw_buf_printf(b, "\n  %s M%llu (0x%lx) created at:\n", lw_type_name(l->type),
                  (unsigned long long)l->id, (unsigned long)l->addr);
    text_frames(b, l->create_stack);
  }
  lw_buf_puts(b, "\n");
  for (uint32_t i = 0; i < r->nedges; i++) {
    bool seen = false;
    for (uint32_t k = 0; k < i; k++) seen |= r->edges[k].w.thread == r->edges[i].w.thread;
    if (!seen) text_thread(b, r->edges[i].w.thread);
  }
}

void lw_report_format_text(const lw_report_t *r, lw_buf_t *b) {
  lw_buf_puts(b, "==================\n");
  lw_buf_printf(b, "lockwatch: %s (potential deadlock) (pid %d)\n", lw_report_kind_name(r->kind),
                (int)getpid());
  if (r->kind == LW_REPORT_LOCK_ORDER_INVERSION) text_inversion(r, b);
  lw_buf_printf(b, "\n  SUMMARY: lockwatch: %s", lw_report_kind_name(r->kind));
  if (r->nedges) text_where(b, r->edges[0].w.stack_to);
  lw_buf_puts(b, "\n==================\n");
}

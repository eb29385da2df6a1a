/*
 * gen_graph.c - a Mermaid flowchart of how a schema moves: commands to
 * the events they emit, events to the projections and sagas that read
 * them, sagas to the commands they send.
 */
#include "gen.h"

#define TOKF(t) (int)(t).n, (t).z

int esc_gen_graph(const esc_schema *s, es_buf *b) {
  esc_out(b, "flowchart LR\n");
  for (const esc_decl *a = s->decls; a; a = a->next) {
    if (a->kind != ESC_DECL_AGGREGATE)
      continue;
    esc_out(b, "  subgraph %.*s\n", TOKF(a->name));
    for (const esc_decl *m = a->commands; m; m = m->next)
      esc_out(b, "    %.*s_%.*s[/%.*s/]\n", TOKF(a->name), TOKF(m->name),
              TOKF(m->name));
    for (const esc_decl *e = a->events; e; e = e->next)
      if (e->current)
        esc_out(b, "    %.*s_%.*s([%.*s])\n", TOKF(a->name), TOKF(e->name),
                TOKF(e->name));
    esc_out(b, "  end\n");
    for (const esc_decl *m = a->commands; m; m = m->next)
      for (const esc_name_list *r = m->emits; r; r = r->next)
        esc_out(b, "  %.*s_%.*s --> %.*s_%.*s\n", TOKF(a->name), TOKF(m->name),
                TOKF(a->name), TOKF(r->name));
  }
  for (const esc_decl *p = s->decls; p; p = p->next) {
    if (p->kind == ESC_DECL_PROJECTION) {
      esc_out(b, "  projection_%.*s[(%.*s)]\n", TOKF(p->name), TOKF(p->name));
      for (const esc_name_list *r = p->on; r; r = r->next)
        esc_out(b, "  %.*s_%.*s --> projection_%.*s\n", TOKF(r->name),
                TOKF(r->qual), TOKF(p->name));
    } else if (p->kind == ESC_DECL_SAGA) {
      esc_out(b, "  saga_%.*s{{%.*s}}\n", TOKF(p->name), TOKF(p->name));
      for (const esc_saga_on *on = p->saga_on; on; on = on->next) {
        if (on->kind == ESC_ON_EVENT || on->kind == ESC_ON_START)
          esc_out(b, "  %.*s_%.*s -->%s saga_%.*s\n", TOKF(on->ref->name),
                  TOKF(on->ref->qual),
                  on->kind == ESC_ON_START ? "|start|" : "", TOKF(p->name));
        else if (on->kind == ESC_ON_REJECTED)
          esc_out(b, "  %.*s_%.*s -.->|rejected| saga_%.*s\n",
                  TOKF(on->ref->name), TOKF(on->ref->qual), TOKF(p->name));
      }
      for (const esc_name_list *r = p->sends; r; r = r->next)
        esc_out(b, "  saga_%.*s --> %.*s_%.*s\n", TOKF(p->name), TOKF(r->name),
                TOKF(r->qual));
    }
  }
  return b->err;
}

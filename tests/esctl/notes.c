/*
 * notes.c - writes a notes store for esctl's tests, with version 1 or 2
 * of the schema (built twice: NOTES_V=1 and NOTES_V=2).
 *
 *   notes-vN [--segment BYTES] DIR KEY TEXT...
 *
 * opens (creating) the embedded log in DIR, with segments rolled past
 * BYTES when given (so a test gets sealed, indexed segments), and adds one
 * note per TEXT to Note KEY through the app, which records the schema's
 * description in the store. Exits 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if NOTES_V == 1
#include "notes_v1.es.h"
#else
#include "notes_v2.es.h"
#endif

int notes_note_decide_add(const notes_note_state *state,
                          const notes_note_add *command, es_decision *d) {
  notes_note_added event;
  (void)state;
  notes_note_added_init(&event);
  event.text = command->text;
#if NOTES_V == 2
  event.tags = command->tags;
#endif
  return notes_note_emit_added(d, &event);
}

void notes_note_apply_added(notes_note_state *state,
                            const notes_note_added *event, es_arena *arena) {
  state->count++;
  state->last = es_arena_strdup(arena, event->text);
#if NOTES_V == 2
  state->tags += event->tags.count;
#endif
}

#if NOTES_V == 2
int notes_note_upcast_added_v1(const notes_note_added_v1 *from,
                               notes_note_added *to, es_arena *arena) {
  (void)arena;
  notes_note_added_init(to);
  to->text = from->text;
  return 0;
}

int notes_words_on_note_added(const notes_note_added *event,
                              const es_event_meta *meta, void *ctx) {
  (void)event;
  (void)meta;
  (void)ctx;
  return 0;
}
#endif

int main(int argc, char **argv) {
  es_store_options o = ES_STORE_OPTIONS_INIT;
  es_store *store = NULL;
  es_app *app = NULL;
  int i = 1, rc;

  if (argc > 2 && strcmp(argv[1], "--segment") == 0) {
    o.segment_size = strtoull(argv[2], NULL, 10);
    i = 3;
  }
  if (argc - i < 3) {
    fprintf(stderr, "usage: notes [--segment BYTES] DIR KEY TEXT...\n");
    return 1;
  }
  rc = es_store_open_log(&store, argv[i], &o, 0);
  if (!rc)
    rc = es_app_open(&app, &notes_schema, store, NULL);
  for (int k = i + 2; !rc && k < argc; k++) {
    notes_note_add cmd;
    es_result res;
    notes_note_add_init(&cmd);
    cmd.text = argv[k];
#if NOTES_V == 2
    const char *tags[1] = {"v2"};
    cmd.tags.items = tags;
    cmd.tags.count = 1;
#endif
    rc = notes_note_execute_add(app, argv[i + 1], &cmd, NULL, &res);
  }
  es_app_close(app);
  es_store_close(store);
  if (rc) {
    fprintf(stderr, "notes: %s\n", es_strerror(rc));
    return 1;
  }
  return 0;
}

// notes, version 2: Added gains a list of tags (v2); events written by
// version 1 are lifted by an upcaster.
schema notes;

aggregate Note {
  key string;
  state { count: u32; last: string; tags: u32; }
  command Add { text: string; tags: list<string> max 8; } emits Added;
  event Added v2 { text: string; tags: list<string> max 8; }
  event Added v1 { text: string; }
}

projection Words { on Note.Added; }

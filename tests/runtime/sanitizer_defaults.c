/*
 * sanitizer_defaults.c - linked into every runtime test. The sanitizers
 * read these hooks at start-up; without a sanitizer they are never called.
 */

const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

/* An impossible malloc must return NULL under ASan as it does without it
 * (buf::huge_max_fails_with_enomem_not_a_crash relies on that). */
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1";
}

/* Criterion 2.4.1's parallel runner sometimes loses 48 bytes in the parent
 * process (calloc inside libcriterion, never our code). */
const char *__lsan_default_suppressions(void) {
  return "leak:libcriterion.so\n";
}

/*
 * dir.h - removing the temporary directories tests and benchmarks make.
 */
#ifndef TEST_DIR_H
#define TEST_DIR_H

/* Removes `dir` and everything below it; symbolic links are removed, never
 * followed. A missing `dir` is not an error. Returns 0, or -1 when
 * something could not be removed (the rest is removed all the same). */
int remove_dir(const char *dir);

#endif

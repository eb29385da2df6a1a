/*
 * main.c - esctl: reads, checks and moves esgen event stores, decoding
 * events with the schema descriptions recorded in the store itself.
 * docs/esctl.md describes every command.
 */
#include <es/es_ctl.h>

int main(int argc, char **argv) { return es_ctl_main(argc, argv, NULL); }

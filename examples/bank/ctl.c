/*
 * ctl.c - bank-ctl: esctl for the bank, built with its schema, so it also
 * folds states (`state Account/alice --at 3`), re-dispatches dead letters
 * and rebuilds the Balances projection with the bank's own functions.
 */
#include <es/es_ctl.h>

#include "bank.es.h"

int main(int argc, char **argv) {
  return es_ctl_main(argc, argv, &bank_schema);
}

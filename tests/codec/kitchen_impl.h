/*
 * kitchen_impl.h - what the kitchen.es functions in kitchen_impl.c share
 * with the tests: the Menu projection's read model, and the values the
 * decide and upcast functions work with.
 */
#ifndef KITCHEN_IMPL_H
#define KITCHEN_IMPL_H

#include <stdint.h>

#include "kitchen.es.h"

/* Above this Fahrenheit temperature Bake is rejected (TooHot). */
#define KITCHEN_MAX_TEMP_F 600
/* Above this one the dish is baked, then burnt (two events). */
#define KITCHEN_BURN_TEMP_F 450

/* The Menu projection's read model: its handlers' `ctx`. */
typedef struct kitchen_menu_view {
  uint32_t dishes;  /* dishes baked, over every Baked event */
  uint32_t burnt;   /* Burnt events */
  uint32_t stocked; /* Stocked events */
  uint64_t last_position;
  char last_dish[16];
} kitchen_menu_view;

/* Name of the timeout the Service saga schedules after a burn. */
#define KITCHEN_CLEAN_TIMEOUT "clean"
#define KITCHEN_CLEAN_DELAY_US (INT64_C(15) * 60 * 1000000)

/* The Celsius temperature the Baked v1 -> v2 upcaster computes. */
double kitchen_f_to_c(int32_t fahrenheit);

#endif

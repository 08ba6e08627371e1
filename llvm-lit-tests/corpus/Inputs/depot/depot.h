// Shared declarations of the depot program: the step loop, the probe
// printer and every module's report.
#pragma once
#include <string>

#include "depot_c.h"

extern long g_steps;

void probe(const char *name, const std::string &value);
std::string fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
std::string join(const std::string &a, const std::string &b, char sep = ',');

void depot_step();

void report_shapes();
void report_routes();
void report_inventory();
void report_events();
void report_parser();
void report_stats();
void report_text();
void report_accounts();
void report_config();
void report_scheduler();
void report_catalog();
void report_orders();

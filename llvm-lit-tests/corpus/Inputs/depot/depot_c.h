/* The C side of the depot program. */
#ifndef DEPOT_C_H
#define DEPOT_C_H

#ifdef __cplusplus
extern "C" {
#endif

long depot_steps(void);
void c_probe(const char *name, const char *value);

void legacy_report(void);
void units_report(void);

#ifdef __cplusplus
}
#endif

#endif

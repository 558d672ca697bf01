/* The schema tables: which blocks and attributes moat maps into struct
 * moat_config, with their types and limits. load.c and print.c are driven
 * by these tables, so a setting is added in one place. Internal to
 * src/config. */
#ifndef MOAT_CONFIG_SCHEMA_H
#define MOAT_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/flywall_schema.h"

enum cfg_kind {
	CK_STR,		/* struct cfg_str */
	CK_ENUM,	/* struct cfg_str, one of choices (stored lowercase) */
	CK_BOOL,	/* struct cfg_bool */
	CK_INT,		/* struct cfg_int within [min, max] */
	CK_STRS,	/* struct cfg_strs */
	CK_PORTS,	/* struct cfg_ports */
};

struct cfg_field {
	const char *name;
	enum cfg_kind kind;
	size_t off;
	long long min;
	long long max;
	const char *const *choices;	/* CK_ENUM */
	bool required;
	bool lower;		/* CK_STR: stored lowercase */
};

struct cfg_section;

struct cfg_child {
	const char *type;
	const struct cfg_section *sec;
	size_t off;		/* of the struct cfg_vec in the parent */
	bool single;		/* may appear at most once */
};

struct cfg_section {
	const char *type;	/* the block type, "" for the file itself */
	size_t size;		/* of the object */
	int min_labels;
	int max_labels;
	const char *labels;	/* how help and errors name them */
	const struct cfg_field *fields;		/* NULL-name terminated */
	const struct cfg_child *children;	/* NULL-type terminated */
	enum fly_type_id flywall;	/* Flywall's names for this block */
};

extern const struct cfg_section cfg_root_section;

#endif

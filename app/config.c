/* SPDX-License-Identifier: MIT */
/* Loading the daemon's JSON configuration through the policy compiler. */
#include "config.h"

#include "duet/err.h"

int config_load(struct duet_config *cfg, const char *path, FILE *errs)
{
	struct policy *p = NULL;
	unsigned warnings = 0;
	int err = policy_load_file(&p, path, errs, &warnings);

	if (err == ENOMEM && errs)
		fprintf(errs, "%s: out of memory\n", path);
	if (err)
		return err;
	*cfg = (struct duet_config){ .policy = p,
				     .s = policy_settings(p),
				     .warnings = warnings };
	return 0;
}

void config_calls(struct calls_config *cc, const struct policy_settings *s)
{
	calls_config_default(cc);
	cc->t1 = s->t1;
	cc->t2 = s->t2;
	cc->ring_timeout_ms = s->ring_timeout;
	cc->max_calls = s->max_calls;
	cc->reinvite_timeout_ms = s->reinvite_timeout;
	cc->session_expires = s->session_expires;
	cc->min_se = s->min_se;
}

void config_clear(struct duet_config *cfg)
{
	cfg->policy = policy_unref(cfg->policy);
	cfg->s = NULL;
}

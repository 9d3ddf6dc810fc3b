// SPDX-License-Identifier: MIT
/*
 * The automaton into the walker's BPF maps (layout in bpf/dfa_abi.h, walker
 * in bpf/dfa.bpf.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "policy/dfa.h"

int ap_dfa__size_maps(const struct ap_dfa *d, struct bpf_map *trans,
		      struct bpf_map *accept, struct bpf_map *sets)
{
	uint32_t chunks = ap_dfa__trans_chunks(d);
	int ret;

	ret = bpf_map__set_max_entries(trans, chunks ? chunks : 1);
	if (!ret)
		ret = bpf_map__set_max_entries(accept, d->nstates ? d->nstates : 1);
	if (!ret)
		ret = bpf_map__set_max_entries(sets, d->naccept ? d->naccept : 1);
	return ret < 0 ? ret : 0;
}

int ap_dfa__fill_maps(const struct ap_dfa *d, int classes_fd, int trans_fd,
		      int accept_fd, int sets_fd)
{
	struct ap_dfa_kconf conf = { .nclasses = d->nclasses,
				     .nstates = d->nstates,
				     .ngroups = d->ngroups ? d->ngroups : 1 };
	size_t ntrans = (size_t)d->nstates * d->nclasses;
	uint32_t key = 0, chunks = ap_dfa__trans_chunks(d);
	struct ap_dfa_trans_chunk *ch = malloc(sizeof(*ch));
	int ret = -ENOMEM;

	if (!ch)
		goto cleanup;
	/* tables first, the class map last: until then a walker sees
	 * nclasses == 0 and lands in trans[0] (dead), i.e. matches nothing */
	for (key = 0; key < chunks; key++) {
		size_t first = (size_t)key * AP_DFA_TRANS_CHUNK;
		size_t n = ntrans - first < AP_DFA_TRANS_CHUNK
				   ? ntrans - first : AP_DFA_TRANS_CHUNK;

		memset(ch, 0, sizeof(*ch));
		memcpy(ch->next, d->trans + first, n * sizeof(ch->next[0]));
		ret = bpf_map_update_elem(trans_fd, &key, ch, BPF_ANY);
		if (ret)
			goto cleanup;
	}
	for (key = 0; key < d->nstates; key++) {
		ret = bpf_map_update_elem(accept_fd, &key, &d->accept[key], BPF_ANY);
		if (ret)
			goto cleanup;
	}
	for (key = 0; key < d->naccept; key++) {
		ret = bpf_map_update_elem(sets_fd, &key, &d->sets[key], BPF_ANY);
		if (ret)
			goto cleanup;
	}
	memcpy(conf.classes, d->classes, sizeof(conf.classes));
	key = 0;
	ret = bpf_map_update_elem(classes_fd, &key, &conf, BPF_ANY);
cleanup:
	free(ch);
	return ret;
}

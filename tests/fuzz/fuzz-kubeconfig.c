// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: kubeconfig parsing and merging (plugin/kubeconfig.c).
 * Each input is parsed as a first file and
 * again as a second file merged over it (the first-definition-wins path).
 * Resolution is left out: it reads the files a kubeconfig names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "plugin/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kubeconfig kc = { 0 };
	char *err = NULL;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (kubeconfig_parse(&kc, "/fuzz/one/config", text, size, &err) < 0) {
		/* every failure explains itself */
		if (!err)
			abort();
	}
	free(err);
	err = NULL;
	if (kubeconfig_parse(&kc, "fuzz-two", text, size, &err) < 0 && !err)
		abort();
	free(err);
	kubeconfig_release(&kc);
	free(text);
	return 0;
}

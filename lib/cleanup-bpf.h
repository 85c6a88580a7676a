/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TG_LIB_CLEANUP_BPF_H
#define TG_LIB_CLEANUP_BPF_H

#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "lib/cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct bpf_object *, bpf_object__close)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bpf_link *, bpf_link__destroy)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ring_buffer *, ring_buffer__free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct btf *, btf__free)

#endif

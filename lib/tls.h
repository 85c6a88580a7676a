/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSL context setup shared by every TLS endpoint.  TLS 1.2 minimum.
 * Errors come back as -errno/-TG_ECONFIG with a message in *ret_err
 * (caller frees), naming the file that was wrong.
 */
#ifndef TG_LIB_TLS_H
#define TG_LIB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

struct tls_opts {
	size_t sz;               /* sizeof(struct tls_opts) */
	const char *cert_file;   /* PEM certificate (chain) */
	const char *key_file;    /* PEM private key */
	const char *ca_file;     /* server: CA for client certificates (then
				  * required); client: CA for the server */
	const char *require_cn;  /* server: client certificate CN must equal
				  * this (NULL: any cert from ca_file) */
	bool request_client_cert; /* server, without ca_file: ask for a client
				   * certificate, require none and verify none
				   * at the handshake (the caller verifies it
				   * against a CA that may change, as the
				   * gateway's front-proxy authentication) */
};

/* A server context resumes the TLS sessions it made (tickets) for this
 * long; a full handshake checks the client certificate again after. */
#define TLS_SESSION_LIFETIME_S 300

int tls_server_ctx_new(const struct tls_opts *opts, SSL_CTX **ret, char **ret_err);
int tls_client_ctx_new(const struct tls_opts *opts, SSL_CTX **ret, char **ret_err);
/* The last OpenSSL error queue entries as one string (caller frees). */
char *tls_error_string(void);
/* CN of the peer's verified certificate, or NULL. Caller frees. */
char *tls_peer_cn(SSL *ssl);

#endif

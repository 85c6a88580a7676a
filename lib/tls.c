// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include "lib/buf.h"
#include "lib/cleanup-ssl.h"
#include "lib/errors.h"
#include "lib/opts.h"
#include "lib/tls.h"

char *tls_error_string(void)
{
	struct buf b = BUF_INIT(4096);
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		char tmp[256];

		ERR_error_string_n(e, tmp, sizeof(tmp));
		if (b.len)
			(void)buf_adds(&b, "; ");
		(void)buf_adds(&b, tmp);
	}
	if (!b.len)
		(void)buf_adds(&b, "unknown TLS error");
	return buf_detach(&b, NULL);
}

static int tls_fail(char **ret_err, const char *what, const char *file)
{
	_cleanup_free_ char *ossl = tls_error_string();

	if (ret_err && asprintf(ret_err, "%s \"%s\": %s", what, file ? file : "", ossl) < 0)
		*ret_err = NULL;
	return -TG_ECONFIG;
}

static int tls_load_pair(SSL_CTX *ctx, const struct tls_opts *o, char **ret_err)
{
	if (!o->cert_file && !o->key_file)
		return 0;
	if (!o->cert_file || !o->key_file) {
		if (ret_err)
			*ret_err = strdup("certificate and key must be given together");
		return -TG_ECONFIG;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
		return tls_fail(ret_err, "cannot load certificate", o->cert_file);
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1)
		return tls_fail(ret_err, "cannot load private key", o->key_file);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(ret_err, "key does not match certificate", o->key_file);
	return 0;
}

static int tls_verify_cn_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;
	SSL_CTX *ctx;
	const char *want;
	X509 *cert;
	char cn[256];

	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	ctx = ssl ? SSL_get_SSL_CTX(ssl) : NULL;
	want = ctx ? SSL_CTX_get_app_data(ctx) : NULL;
	if (!want)
		return ok;
	cert = X509_STORE_CTX_get_current_cert(xs);
	if (!cert || X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
					       sizeof(cn)) < 0)
		return 0;
	if (strcmp(cn, want) != 0) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return ok;
}

/*
 * A client that connects again (the gateway to a runner: one connection
 * per session) resumes its TLS session from a ticket instead of a full
 * handshake (no certificate signatures to make or check).  A resumed
 * session carries the client certificate verified when it was made; the
 * ticket is sealed with this context's key, so only a session that this
 * server established with a verified client resumes.  The session id
 * context names what was verified (the CA file and the required CN): a
 * session made under other requirements is not resumed, and without one
 * OpenSSL refuses any resumption where client certificates are required.
 * Sessions live TLS_SESSION_LIFETIME_S.
 */
static int tls_session_resumption(SSL_CTX *ctx, const struct tls_opts *o)
{
	struct buf what = BUF_INIT(8192);
	unsigned char sid[SHA256_DIGEST_LENGTH];
	unsigned int len = 0;
	int r;

	r = buf_printf(&what, "tracegate-tls-v1\n%s\n%s", o->ca_file ? o->ca_file : "",
		       o->require_cn ? o->require_cn : "");
	if (r >= 0 && EVP_Digest(what.s, what.len, sid, &len, EVP_sha256(), NULL) != 1)
		r = -EINVAL;
	buf_release(&what);
	if (r < 0)
		return r;
	if (SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid)) != 1)
		return -EINVAL;
	SSL_CTX_set_timeout(ctx, TLS_SESSION_LIFETIME_S);
	return 0;
}

static int tls_accept_any_cb(int ok, X509_STORE_CTX *xs)
{
	(void)ok;
	(void)xs;
	return 1;
}

int tls_server_ctx_new(const struct tls_opts *o, SSL_CTX **ret, char **ret_err)
{
	_cleanup_(SSL_CTX_freep) SSL_CTX *ctx = NULL;
	int r;

	if (!o || !OPTS_VALID(o, struct tls_opts))
		return tg_fail(ret_err, -EINVAL, "TLS: options of another size");
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	r = tls_load_pair(ctx, o, ret_err);
	if (r < 0)
		return r;
	if (o->ca_file) {
		STACK_OF(X509_NAME) *names;

		if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1)
			return tls_fail(ret_err, "cannot load CA", o->ca_file);
		names = SSL_load_client_CA_file(o->ca_file);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		/* The CN string must outlive the context: callers pass static
		 * or long-lived configuration strings. */
		SSL_CTX_set_app_data(ctx, (void *)o->require_cn);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				   tls_verify_cn_cb);
	} else if (o->request_client_cert) {
		static const unsigned char sid[] = "tracegate";

		/* possession of the key is proven by the handshake; the chain
		 * is the caller's to judge, against its CA of the moment */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_accept_any_cb);
		SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
		/* no resumption: every connection's chain is judged afresh
		 * against the CA of the moment (a resumed session would carry
		 * a certificate checked against an older one, without its chain) */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
	if (!o->request_client_cert) {
		r = tls_session_resumption(ctx, o);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(ctx);
	return 0;
}

int tls_client_ctx_new(const struct tls_opts *o, SSL_CTX **ret, char **ret_err)
{
	_cleanup_(SSL_CTX_freep) SSL_CTX *ctx = NULL;
	int r;

	if (!o || !OPTS_VALID(o, struct tls_opts))
		return tg_fail(ret_err, -EINVAL, "TLS: options of another size");
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	r = tls_load_pair(ctx, o, ret_err);
	if (r < 0)
		return r;
	if (o->ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1)
			return tls_fail(ret_err, "cannot load CA", o->ca_file);
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		return tls_fail(ret_err, "cannot load system CAs", NULL);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	*ret = TAKE_PTR(ctx);
	return 0;
}

char *tls_peer_cn(SSL *ssl)
{
	_cleanup_(X509_freep) X509 *cert = SSL_get1_peer_certificate(ssl);
	char cn[256];

	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) < 0)
		return NULL;
	return strdup(cn);
}

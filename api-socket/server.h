/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.h - the API thread: a Unix-socket HTTP server in front of api.h.
 *
 * One thread, one epoll loop, non-blocking sockets.  It parses and routes
 * requests itself and never touches the VM: a request that needs the VMM
 * becomes a struct api_cmd handed to opts.submit, which must block until
 * the VMM thread has executed it (cmdq_submit from cmdq.h does exactly
 * that).  Requests are served one at a time, in arrival order.
 *
 * Limits: opts.max_conns open connections (the next one gets a 503 and is
 * closed), opts.timeout_ms without completing a request closes a
 * connection (slow or idle clients), and the parser's limits (http.h).  A
 * malformed request gets its 4xx and its connection is closed; the server
 * itself never stops for anything a client sends.
 */
#ifndef EMBER_API_SERVER_H
#define EMBER_API_SERVER_H

#include "api.h"

#define API_SERVER_MAX_CONNS  16
#define API_SERVER_TIMEOUT_MS 10000

typedef int (*api_submit_fn)(void *opaque, struct api_cmd *cmd, char *err, size_t errlen);

struct api_server_opts {
	const char *sock_path;
	const char *instance_id; /* NULL: API_DEFAULT_ID */
	size_t max_payload;	 /* 0: HTTP_MAX_PAYLOAD_DEFAULT */
	unsigned max_conns;	 /* 0: API_SERVER_MAX_CONNS */
	unsigned timeout_ms;	 /* 0: API_SERVER_TIMEOUT_MS */
	bool started;		 /* the VM already runs (--config-file) */
	bool paused;		 /* ... paused (a live fork's paused child) */
	struct mmds *mmds;	 /* the MMDS store, NULL: none */
	atomic_int *migration;	 /* api_state.migration */
	api_submit_fn submit;	 /* NULL: every command fails */
	void *opaque;
	/*
	 * Optional, for metrics: called on the API thread after each response
	 * with the request (NULL when it could not be parsed), the status and
	 * the time from the complete request to the queued response.
	 */
	void (*on_request)(void *opaque, const struct http_request *req, int status,
			   uint64_t usecs);
	/*
	 * Optional, with @started: writes the running VM's configuration into
	 * @cfg, fresh from calloc with only api_config_defaults set (write only
	 * what is set, as sparse.h's sparse_fill does), in api_server_open.
	 * A callback, not a struct to copy: reading a ~164 KiB struct that is
	 * nearly all untouched pages is a page fault per page, and those were
	 * a good part of a fork child's time to answer.
	 */
	void (*initial_cfg)(void *opaque, struct api_vm_config *cfg);
	/* Optional: runs first on the API thread (ember installs its seccomp
	 * filter there); non-zero means the thread does not serve. */
	int (*thread_setup)(void);
	/* Leave the socket file at stop: a filtered VMM thread cannot unlink,
	 * and the next start replaces a stale socket anyway. */
	bool keep_socket;
};

struct api_server;

/*
 * Creates the socket (0600; a leftover socket nobody listens on is replaced,
 * anything else at @sock_path is refused): it accepts connections when this
 * returns, and they wait in its backlog until api_server_run starts the API
 * thread (with every signal blocked), which serves them.  A fork child
 * answers its parent in between: its API thread is then not part of the
 * fork's wait, and is born an ordinary task (vmm/fork_child.c).  Each
 * returns 0 or -errno with a message in @err; after a failed run, stop it.
 */
int api_server_open(const struct api_server_opts *opts, struct api_server **out, char *err,
		    size_t errlen);
int api_server_run(struct api_server *srv, char *err, size_t errlen);
/* Stops and joins the thread, closes every connection, removes the socket.
 * Call cmdq_close() first if a submit may be waiting on the calling thread. */
void api_server_stop(struct api_server *srv);

/* The listening socket alone (exposed for tests): non-blocking fd or -errno. */
int api_socket_listen(const char *path, char *err, size_t errlen);

#endif /* EMBER_API_SERVER_H */

// Every time bound of the suite, in one place: what each wait may cost at most.
// Modules import their bound from here; flags (--start-timeout, --ready-timeout,
// ...) override the defaults per run. Each line says what the bound bounds.

// The run and its cases.
/** A whole run of the CLI against one server (--run-timeout). */
export const RUN_TIMEOUT_MS = 30 * 60_000;
/** One case under one TLS version, server start to verdict (--case-timeout; a case's own timeoutMs wins). */
export const CASE_TIMEOUT_MS = 30_000;
/** Building one case's PKI: harness time, kept apart from the case's own bound. */
export const PKI_TIMEOUT_MS = 90_000;
/** Generating one pooled slow key (RSA-3072/4096) ahead of need. */
export const KEY_GENERATE_TIMEOUT_MS = 180_000;
/** How long teardown waits for an abandoned case step (or a late start) to settle before removing its directory. */
export const SETTLE_MS = 1_000;
/** The same wait once the run is interrupted or has failed: the process reaper ends what is still starting. */
export const ABORT_GRACE_MS = 250;
/** Cleanup after an interrupt, beyond the stop bound, before the CLI kills what is left and exits. */
export const CLEANUP_MARGIN_MS = 5_000;

// Starting and stopping the server under test.
/** Starting a server: start() resolving (--start-timeout). */
export const START_TIMEOUT_MS = 15_000;
/** Stopping a server: stop() resolving (--stop-timeout). */
export const STOP_TIMEOUT_MS = 10_000;
/** A child server accepting TCP connections on its port after launch (--ready-timeout's default; nginx, Apache). */
export const READY_TIMEOUT_MS = 10_000;
/** Room a --server-cmd start gets beyond two readiness waits (one port re-pick). */
export const START_MARGIN_MS = 5_000;
/** A child server confirming a reload (new workers, a new generation logged). */
export const RELOAD_TIMEOUT_MS = 5_000;
/** A real server (nginx, Apache, --server-cmd) exiting after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 3_000;
/** A process group exiting after its stop signal, when the caller names no grace, before SIGKILL. */
export const GROUP_STOP_GRACE_MS = 5_000;
/** A process group's leader exiting after SIGKILL. */
export const GROUP_KILL_WAIT_MS = 5_000;
/** Descendants exiting after the reaper's SIGTERM before its SIGKILL. */
export const REAP_GRACE_MS = 2_000;
/** One `ps` listing, where there is no /proc. */
export const PS_TIMEOUT_MS = 5_000;
/** Creating the stdout/stderr FIFOs of a child server (mkfifo). */
export const MKFIFO_TIMEOUT_MS = 5_000;

// Probes and observation.
/** One probe connection (--probe-timeout), also the wire-level and HTTP/2 probes' default. */
export const PROBE_TIMEOUT_MS = 5_000;
/** The TLS 1.3 hold test: how long a refusing server gets to close after the handshake. */
export const HOLD_MS = 1_500;
/** The hold test grows past HOLD_MS for a server slow to close (twice its delay plus HOLD_MS), leaving this much of the probe's bound for the request. */
export const HOLD_MARGIN_MS = 1_000;
/** A raw exchange (bytes sent, the answer read) and a ClientHello capture. */
export const RAW_TIMEOUT_MS = 2_000;
/** Whether a server still listens: the connect attempt. */
export const LISTENING_CONNECT_MS = 1_000;
/** Whether a server still listens: how long an accepted connection must stay open (a dying backlog resets). */
export const LISTENING_HOLD_MS = 250;
/** A case waiting for an expected log line. */
export const LOG_WAIT_MS = 5_000;
/** One read of a server's logs() after the case. */
export const LOG_READ_MS = 2_000;
/** How long a log must stay unchanged after the last response before the case's excerpt is taken. */
export const LOG_QUIET_MS = 25;
/** The most a case waits for late log lines after its last response. */
export const LOG_SETTLE_MAX_MS = 500;

// The suite's own helpers.
/** One openssl command building the PKI. */
export const OPENSSL_CALL_TIMEOUT_MS = 30_000;
/** `openssl version`, checking the binary before a run. */
export const OPENSSL_VERSION_TIMEOUT_MS = 10_000;
/** One `openssl ocsp` call answering a request at the suite's responder. */
export const OCSP_CALL_TIMEOUT_MS = 10_000;
/** The suite's OCSP responder listening. */
export const OCSP_LISTEN_MS = 5_000;
/** The suite's OCSP responder reading one request. */
export const OCSP_REQUEST_MS = 5_000;
/** The shell that starts openssl commands answering its first one; past it, commands start directly. */
export const SPAWNER_START_MS = 5_000;
/** A timed-out or cancelled openssl command exiting after SIGTERM before SIGKILL (as execa gives). */
export const FORCE_KILL_MS = 5_000;
/** An `openssl s_server` reference server listening. */
export const OPENSSL_SERVER_READY_MS = 10_000;
/** An `openssl s_server` reference server exiting after SIGTERM. */
export const OPENSSL_SERVER_STOP_GRACE_MS = 2_000;
/** The suite's upstream (behind a proxy) receiving request headers. */
export const UPSTREAM_HEADERS_MS = 5_000;
/** The suite's upstream receiving a whole request. */
export const UPSTREAM_REQUEST_MS = 10_000;
/** A case waiting for the upstream to see a request. */
export const UPSTREAM_WAIT_MS = 5_000;
/** An idle relayed connection before it is closed. */
export const RELAY_IDLE_MS = 10_000;
/** A built-in proxy's request to the upstream. */
export const PROXY_REQUEST_MS = 5_000;

// The catalogue of log messages. Every log line carries a stable `msgId` (Kea's message catalogue is
// the model), so that operators can grep, alert and document by id. docs/log-messages.md lists them.

export type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export const MESSAGES = {
  JOIND_STARTED: { level: 'info', text: 'server started and serving' },
  JOIND_STOPPING: { level: 'info', text: 'orderly shutdown requested (SIGTERM/SIGINT); committing and closing' },
  JOIND_STOPPED: { level: 'info', text: 'server stopped; every lease committed' },
  JOIND_START_FAILED: { level: 'fatal', text: 'the server could not start (configuration, store or sockets)' },
  CONFIG_LOADED: { level: 'info', text: 'configuration loaded and validated' },
  CONFIG_PROBLEM: { level: 'warn', text: 'a problem in a configuration file (file:line:column and what was expected)' },
  CONFIG_RELOADED: {
    level: 'info',
    text: 'configuration re-read (SIGHUP, auto_reread or joind ctl reload) and now in force, except what CONFIG_NEEDS_RESTART names',
  },
  CONFIG_NEEDS_RESTART: {
    level: 'warn',
    text: 'a reload read a new value of a setting that only a restart applies; the running value stays in force until then',
  },
  CONFIG_RELOAD_REJECTED: { level: 'error', text: 'a re-read configuration had errors; the running one stays in force' },
  STORE_OPENED: { level: 'info', text: 'permanent store opened' },
  STORE_COMMIT_FAILED: { level: 'error', text: 'a group commit failed; the replies that depended on it were not sent' },
  STORE_WRITE_FAILED: { level: 'error', text: 'a lease could not be written; no ACK is sent for it' },
  STORE_UNWRITABLE: {
    level: 'error',
    text: 'the lease database refuses writes (disk full, read-only, I/O error): no new leases until it recovers',
  },
  STORE_WRITABLE: { level: 'warn', text: 'the lease database takes writes again: granting leases again' },
  STORE_INTEGRITY_FAILED: {
    level: 'fatal',
    text: 'the lease database failed its integrity check at start: restore a backup (README, Reliability)',
  },
  STORE_BACKUP: { level: 'info', text: 'a backup copy of the lease database was written' },
  STORE_JOURNAL_SET_ASIDE: {
    level: 'warn',
    text: 'the lease journal does not continue this database (a backup put back?): set aside, not replayed',
  },
  STORE_CHECKPOINT_FAILED: {
    level: 'warn',
    text: 'the checkpoint thread could not checkpoint the WAL; commits checkpoint it themselves past 40 MB',
  },
  STORE_BACKUP_FAILED: {
    level: 'error',
    text: 'a backup copy of the lease database could not be written; the previous copies stay',
  },
  LEASES_EXPIRED: { level: 'debug', text: 'expiry sweep marked leases expired' },
  PING_UNAVAILABLE: {
    level: 'warn',
    text: 'ICMP socket unavailable (needs root or CAP_NET_RAW): serving with the ping check off',
  },
  PING_CONFLICT: { level: 'warn', text: 'an address answered the ping check: marked abandoned, trying another' },
  POOL_EXHAUSTED: { level: 'warn', text: 'no free address left in a network: a client could not be offered one' },
  PACKET_DROP_PARSE: { level: 'debug', text: 'a packet could not be decoded and was dropped' },
  PACKET_DROP: { level: 'debug', text: 'a packet was dropped (reason given)' },
  PACKET_HANDLER_FAILED: { level: 'error', text: 'a packet handler failed: the packet was dropped (a bug; stack given)' },
  DHCP_DISCOVER: { level: 'debug', text: 'DHCPDISCOVER received' },
  DHCP_OFFER: { level: 'info', text: 'DHCPOFFER sent' },
  DHCP_REQUEST: { level: 'debug', text: 'DHCPREQUEST received' },
  DHCP_ACK: { level: 'info', text: 'DHCPACK sent: lease committed to disk first' },
  DHCP_NAK: { level: 'info', text: 'DHCPNAK sent (reason given)' },
  DHCP_DECLINE: { level: 'warn', text: 'DHCPDECLINE: the client found the address in use; marked abandoned' },
  DHCP_RELEASE: { level: 'info', text: 'DHCPRELEASE: lease ended by the client' },
  DHCP_INFORM: { level: 'info', text: 'DHCPINFORM answered with configuration, no lease' },
  BOOTP_REPLY: { level: 'info', text: 'BOOTREPLY sent' },
  BOOTP_EXTENDED: {
    level: 'info',
    text: 'an ended BOOTP allocation still answers a ping: extended by bp_auto_extension instead of reused',
  },
  BOOTP_WRONG_NETWORK: {
    level: 'error',
    text: 'a BOOTP client is not on the network of its bound address (check_bootp_client_net): not answered',
  },
  BOOTP_BINDING_IN_USE: {
    level: 'error',
    text: 'the bound address of a BOOTP client answers a ping (ping_bootp_clients): client not configured',
  },
  SEND_FAILED: { level: 'warn', text: 'a reply could not be sent' },
  SOCKET_ERROR: {
    level: 'warn',
    text: 'a socket problem the transport serves on without: an address or interface it could not bind or open, a socket error',
  },
  TRANSPORT_FALLBACK: {
    level: 'warn',
    text: 'raw packet sockets unavailable (needs root or CAP_NET_RAW): using the UDP transport',
  },
  TRANSPORT_READY: { level: 'info', text: 'listening (transport, interfaces)' },
  INTERFACE_NOT_SERVED: { level: 'debug', text: 'an interface is not served (which, and why)' },
  PRIVILEGES_DROPPED: { level: 'info', text: 'now running as the --user account, keeping only the capabilities listed' },
  PRIVILEGES_CONFIG_UNREADABLE: {
    level: 'warn',
    text: 'the --user account cannot read these configuration files: SIGHUP will be rejected until it can',
  },
  STATE_DUMP: { level: 'info', text: 'diagnostic state (SIGUSR1)' },
  OPS_LISTENING: { level: 'info', text: 'the control API or the metrics endpoint listens (where)' },
  OPS_LISTEN_FAILED: {
    level: 'error',
    text: 'the control API or the metrics endpoint could not listen; the server serves without it',
  },
  OPS_CHANGE: { level: 'info', text: 'an administrator changed the store through the control API (what, which address)' },
  FAILOVER_STATE: {
    level: 'info',
    text: 'the failover server state changed (from, to, the partner state, why); saved before it takes effect',
  },
  FAILOVER_LINK_UP: { level: 'info', text: 'the failover link to the peer is established (CONNECT and CONNECTACK exchanged)' },
  FAILOVER_LINK_DOWN: { level: 'warn', text: 'the failover link to the peer was lost or refused (why)' },
  FAILOVER_CONNECT_REJECTED: {
    level: 'error',
    text: 'a failover CONNECT or CONNECTACK failed its checks (name, clock, MCLT, hash buckets) or was rejected',
  },
  FAILOVER_BAD_MESSAGE: {
    level: 'warn',
    text: 'a malformed or unexpected failover message: counted, and the connection dropped',
  },
  FAILOVER_UPDATE_REJECTED: {
    level: 'warn',
    text: 'a binding update was refused (by the peer, or by us: reject reason, address)',
  },
  FAILOVER_PEER_UNRESPONSIVE: {
    level: 'warn',
    text: 'the failover peer is taken for down: enough of its clients waited in vain (failover_unacked_clients), or the auto-partner-down timer ran out; partner-down follows',
  },
  CLOCK_STEP: {
    level: 'warn',
    text: 'the wall clock stepped (seconds, when): lease times moved with it, so every lease keeps the time it had left',
  },
  FAILOVER_CLOCK_SKEW: {
    level: 'warn',
    text: "the failover peer's clock differs from ours by more than 30 s (seconds); at 60 s the link is refused: fix the clocks (NTP)",
  },
  FAILOVER_POOL_BALANCED: { level: 'info', text: 'failover pool balance moved free addresses between the two servers' },
  FAILOVER_CAUGHT_UP: {
    level: 'info',
    text: "after a start, the peer's bindings are all in our store (bindings, milliseconds); serving begins",
  },
  FAILOVER_STORE_STALE: {
    level: 'error',
    text: 'the peer holds leases our store should have and lacks (restored from an old backup?): recovering from the peer',
  },
  DDNS_UPDATED: {
    level: 'info',
    text: "a lease's name is in DNS: A and DHCID in the forward zone, the PTR in the reverse zone (fqdn, address, ttl; only: PTR when the client writes its own A)",
  },
  DDNS_REMOVED: {
    level: 'info',
    text: 'the DNS records joind had written for an address were removed (the lease ended or got another name)',
  },
  DDNS_CONFLICT: {
    level: 'warn',
    text: 'a name is held in DNS by another client or by an administrator (no matching DHCID): left alone, the lease granted anyway',
  },
  DDNS_UPDATE_FAILED: {
    level: 'warn',
    text: 'a DNS update failed (server silent, refusing, or refusing the signature); the job stays queued and is tried again (attempts, retryInMs, error)',
  },
} as const satisfies Record<string, { level: Level; text: string }>;

export type MessageId = keyof typeof MESSAGES;

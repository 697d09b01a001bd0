// A Linux packet socket on one served interface, the way ISC dhcpd (LPF) and Kea (PktFilterLPF) talk to
// on-link clients: every DHCP frame arrives with the interface it came in on, and a reply can be sent to
// a client's MAC before the client has an address. The kernel filter (native/joind_net.c) passes only
// IPv4/UDP to the server port, unfragmented, not our own outgoing frames.
//
// Note for the server: unicast DHCP to the server's own address (a renewing client) arrives here too,
// but the kernel's UDP stack also sees it and answers "port unreachable" unless some UDP socket is bound
// to the port; keep a dgram socket on 0.0.0.0:67 open (and discard what it reads, or use it for relays).

import os from 'node:os';

import { buildUdpFrame, parseUdpFrame, type FrameError, type UdpFrame } from './frame';
import { errnoName, FLAG_CSUM_NOT_READY, loadNative, SOCKET_PACKET, type NativeSocket, type NativeSocketStats } from './native';

export { PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST } from './native';

/** Called for each well-formed frame; packetType is PACKET_HOST, PACKET_BROADCAST, ... */
export type PacketHandler = (frame: UdpFrame, ifindex: number, packetType: number) => void;

export interface PacketSocketOptions {
  /** UDP destination port the kernel filter passes (default 67). */
  udpPort?: number;
  /** Receive buffer size in bytes (default: the system's). Raise it for bursts under load. */
  rcvbufBytes?: number;
  /**
   * Also verify UDP checksums of received frames (off by default; see parseUdpFrame). Frames whose
   * checksum the kernel marks as partial (sent from this host with offload) are not checked.
   */
  verifyUdpChecksum?: boolean;
  /** Told about each frame that fails parsing (after counting it); for a rate-limited log line. */
  onBadFrame?: (error: FrameError, ifindex: number) => void;
}

/** What sendUdp needs; the source MAC is the interface's own. */
export interface UdpSendSpec {
  dstMac: Uint8Array;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export class PacketSocket {
  /** Frames delivered to the handler. */
  received = 0;
  /** Frames dropped because they failed parsing. */
  badFrames = 0;
  /** Frames sent. */
  sent = 0;
  /** Sends that failed (the frame is lost; the caller decides whether that matters). */
  sendErrors = 0;
  lastSendError: string | undefined;

  private socket: NativeSocket | null;

  private constructor(
    readonly ifname: string,
    readonly ifindex: number,
    /** The interface's Ethernet address, used as the source of every frame sent. */
    readonly mac: Buffer,
    open: (self: PacketSocket) => NativeSocket,
  ) {
    this.socket = open(this);
  }

  /**
   * Opens a packet socket on interface `ifname`. Throws an Error with a clear message and `code` when the
   * interface does not exist ('ENODEV'), is not Ethernet, or the process lacks CAP_NET_RAW ('EPERM').
   */
  static open(ifname: string, onPacket: PacketHandler, options: PacketSocketOptions = {}): PacketSocket {
    const addon = loadNative();
    const ifindex = addon.ifNameToIndex(ifname);
    if (ifindex === 0) throw codedError(`cannot serve interface ${ifname}: no such interface`, 'ENODEV');
    const mac = addon.ifHardwareAddress(ifname);
    if (mac === null) throw codedError(`cannot serve interface ${ifname}: not an Ethernet interface`, 'EAFNOSUPPORT');
    const verify = options.verifyUdpChecksum === true;
    const onBadFrame = options.onBadFrame;
    try {
      return new PacketSocket(
        ifname,
        ifindex,
        mac,
        (self) =>
          new addon.Socket(
            SOCKET_PACKET,
            ifindex,
            options.udpPort ?? 67,
            options.rcvbufBytes ?? 0,
            (data, arrival, packetType, flags) => {
              const frame = parseUdpFrame(data, verify && (flags & FLAG_CSUM_NOT_READY) === 0);
              if (typeof frame === 'string') {
                self.badFrames++;
                if (onBadFrame) onBadFrame(frame, arrival);
                return;
              }
              self.received++;
              onPacket(frame, arrival, packetType);
            },
          ),
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const hint = code === 'EPERM' || code === 'EACCES' ? ': joind needs root or CAP_NET_RAW' : '';
      throw codedError(`cannot open packet socket on ${ifname}: ${(error as Error).message}${hint}`, code, error);
    }
  }

  /** Builds an Ethernet/IPv4/UDP frame from this interface's MAC and sends it. Returns 0 or an errno number. */
  sendUdp(spec: UdpSendSpec): number {
    const frame = buildUdpFrame({
      dstMac: spec.dstMac,
      srcMac: this.mac,
      srcIp: spec.srcIp,
      dstIp: spec.dstIp,
      srcPort: spec.srcPort,
      dstPort: spec.dstPort,
      payload: spec.payload,
    });
    return this.sendFrame(frame);
  }

  /** Sends a complete frame (e.g. one made with writeUdpFrameHeaders). Returns 0 or an errno number. */
  sendFrame(frame: Uint8Array): number {
    const error = this.socket === null ? os.constants.errno.EBADF : this.socket.sendFrame(frame);
    if (error === 0) {
      this.sent++;
    } else {
      this.sendErrors++;
      this.lastSendError = errnoName(error);
    }
    return error;
  }

  /** Kernel and receive counters (kernelDrops > 0 means the receive buffer overflowed). */
  stats(): NativeSocketStats {
    return this.socket === null ? { kernelPackets: 0, kernelDrops: 0, recvErrors: 0, truncated: 0 } : this.socket.stats();
  }

  /** Closes the socket; safe to call more than once. */
  close(): void {
    if (this.socket !== null) {
      this.socket.close();
      this.socket = null;
    }
  }
}

function codedError(message: string, code: string | undefined, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as NodeJS.ErrnoException;
  if (code !== undefined) error.code = code;
  return error;
}

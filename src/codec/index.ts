// The public API of the wire codec: import from 'src/codec' rather than from the files inside.

export * from './types';
export { decode, type DecodeOptions, HEADER_SIZE, OPTIONS_OFFSET, SNAME_SIZE, FILE_SIZE } from './decode';
export { encode, DEFAULT_MAX_MESSAGE_SIZE, IP_UDP_OVERHEAD, BOOTP_MIN_SIZE, NEVER_DROPPED } from './encode';
export * from './options';
export * from './accessors';

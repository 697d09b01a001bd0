// The public API of the failover protocol code: import from 'src/failover' rather than from the files
// inside. Pure protocol code (no sockets, no SQLite): options.ts is the vocabulary, names.ts the named
// numbers, wire.ts the codec and the stream framer, hash.ts the RFC 3074 load-balancing hash.

export * from './options';
export * from './names';
export * from './wire';
export * from './hash';
export * from './states';

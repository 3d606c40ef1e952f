/** The board <-> station serial protocol: codec, command catalogue and the Infuse crypto both ends share. */
export * from './codec/crc32';
export * from './codec/frame';
export * from './codec/line-splitter';
export * from './codec/values';
export * from './commands';
export * from './infuse-crypto';

/**
 * The station API contract: commands, events, the snapshot and the reducer. Every host (CLI, web host, Electron)
 * carries it unchanged and the renderer imports nothing else. This folder imports zod and nothing more (an ESLint
 * rule holds it to that), so it can be bundled into a browser page.
 */
export * from './vocabulary';
export * from './snapshot';
export * from './events';
export * from './commands';
export { reduce, reduceAll } from './reduce';
export { slotActions, type SlotAction } from './slot-actions';
export * from './bridge';
export * from './review';

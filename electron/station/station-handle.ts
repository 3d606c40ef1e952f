/**
 * What a host holds: the station core as seen through the contract. Hosts (the CLI, the web host, Electron's IPC)
 * translate their transport to these calls and nothing else, so every host behaves the same.
 */
import type { CommandFailure, CommandName, CommandResult, Snapshot, StationEvent } from '../station-api';

export interface StationHandle {
  /** Changes on every start of the station: a seq from another run means nothing. */
  readonly runId: string;
  /** Never throws: a refusal or a failure is `{ ok: false, code, message }`. Input is validated by the contract. */
  execute<N extends CommandName>(name: N, input: unknown): Promise<CommandResult<N>>;
  /** A command by a name a host received from outside (not yet known to be a command). */
  executeUnchecked(name: unknown, input: unknown): Promise<CommandResult<CommandName> | CommandFailure>;
  snapshot(): Snapshot;
  /** Events after `seq`, or null when they are no longer all kept (send a snapshot instead). */
  eventsAfter(seq: number): StationEvent[] | null;
  /** Every event from now on, in seq order; returns the unsubscribe function. */
  subscribe(listener: (event: StationEvent) => void): () => void;
}

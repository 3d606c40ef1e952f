/**
 * Fault knobs of a virtual board (PROTOCOL.md appendix B). A fault is written `kind[@COMMAND][=value][xN]`:
 * `drop-reply@COMMIT`, `delay-reply@VERIFY=3000`, `corrupt-crc x2`, `unplug@COMMIT=after`, `busy=20x3` (the
 * count may follow the value directly or after spaces). Without `@COMMAND` it applies to every command; without
 * `xN` it never wears off.
 */
import { BOARD_STATES, COMMAND_NAMES, type BoardState, type CommandName } from '../commands';

export const FAULT_KINDS = {
  'drop-reply': 'Act on the command but send no reply.',
  'delay-reply': 'Wait `value` ms (default 3000) before replying.',
  'corrupt-crc': 'Send the reply with a wrong CRC.',
  garbage: 'Send a burst of line noise (random bytes, no frame) before the reply.',
  'wrong-version': 'Answer HELLO with protocol version `value` (default 99) whatever the station offered.',
  'storage-fail':
    'Fail the flash write of COMMIT, LOCK or FACTORY-RESET with ERR STORAGE; flash is unchanged.',
  busy: 'Answer ERR BUSY retryAfterMs=`value` (default 50) without acting.',
  caps: 'Announce only the commands in `value` (joined by +, e.g. WRITE+COMMIT) in the HELLO reply.',
  'max-line': 'Announce maxLine=`value` (default 256) in the HELLO reply.',
  'long-error': 'Answer ERR with a made-up error code `value` characters long (default 200), without acting.',
  'long-log':
    'Write a console line of about `value` bytes (default 700), past the line limit, before the reply.',
  'stray-event':
    'Send an event the station does not know (`value`, default battery-low, with level=12) before the reply.',
  'wrong-state': "Report `state=value` (default staged) in the command's reply, whatever the board's state.",
  'line-too-long':
    "Answer ERR LINE_TOO_LONG without acting, as if the station's line had passed the board's line limit.",
  reboot:
    'Restart by itself on the command (a watchdog reset, a brown-out), the port staying: `before` (default) ' +
    'acting, `after` acting but before replying, or `replied` after acting and replying. Staged fields are lost; ' +
    'the boot event follows after the boot delay.',
  'commit-unchanged':
    'Store the staged fields on COMMIT but answer changed=0, as if nothing had been staged.',
  'lose-request':
    'Never see the command (lost on the wire): no action, no reply; the station may send it again.',
  'slow-boot':
    'Take `value` ms (default 1500) to boot after a REBOOT or a restart, instead of the boot delay.',
  unplug:
    'Lose power on the command: `before` (default) acting, or `after` acting but before replying. The port ' +
    'disappears and the board comes back after its replug delay.',
  // Spec breaches for `station board conformance` to find (PROTOCOL.md 9.1); each names the clause it breaks.
  'no-dedup': 'Act again on a retransmission (the same line twice) instead of repeating the reply (4).',
  'no-hello-required': 'Answer commands before HELLO instead of ERR HELLO_REQUIRED (3.3).',
  'accept-bad-crc': 'Act on a request whose CRC is wrong instead of answering ERR BAD_FRAME (2).',
  'wrong-id': "Reply with another id than the request's (2).",
  'no-boot-event': 'Boot without sending the boot event (3.2).',
  'bad-mac': "Answer VERIFY with a MAC that is not the key's (6.4).",
  'bad-response': 'Answer CHALLENGE with a sealed response that does not open (6.3).',
  'forget-on-reboot':
    'Lose the committed credentials (and the lock) on REBOOT, as if flash did not keep them (3.1).',
  'reset-keeps': 'Answer FACTORY-RESET with state=blank but keep the credentials (5.10).',
  'lock-ignored': 'Answer LOCK with state=locked but stay unlocked (5.8).',
} as const;
export type FaultKind = keyof typeof FAULT_KINDS;

export interface FaultRule {
  kind: FaultKind;
  /** Only this command triggers it; undefined = any command. */
  command?: CommandName;
  value?: string;
  /** How many more times it fires; undefined = forever. */
  remaining?: number;
}

// The value is matched lazily so a trailing `xN` is left for the repeat count (`=500x2` is 500, twice): no
// value a fault takes ends in `x` and digits, so nothing that could be a value is lost to the count.
const FAULT_PATTERN =
  /^(?<kind>[a-z-]+)(?:@(?<command>[A-Z-]+))?(?:=(?<value>[A-Za-z0-9.+-]+?))?(?:\s*x(?<times>[1-9][0-9]*))?$/;

export type ParsedFault = { ok: true; rule: FaultRule } | { ok: false; message: string };

export function parseFault(spec: string): ParsedFault {
  const match = FAULT_PATTERN.exec(spec.trim());
  const kinds = Object.keys(FAULT_KINDS).join(', ');
  if (!match?.groups) {
    return {
      ok: false,
      message: `fault "${spec}" is not of the form kind[@COMMAND][=value][xN] (kinds: ${kinds})`,
    };
  }
  const { kind, command, value, times } = match.groups;
  if (!kind || !Object.hasOwn(FAULT_KINDS, kind)) {
    return { ok: false, message: `fault "${spec}": unknown kind "${kind}" (kinds: ${kinds})` };
  }
  if (command !== undefined && !(COMMAND_NAMES as readonly string[]).includes(command)) {
    return {
      ok: false,
      message: `fault "${spec}": unknown command "${command}" (commands: ${COMMAND_NAMES.join(', ')})`,
    };
  }
  const rule: FaultRule = { kind: kind as FaultKind };
  if (command !== undefined) rule.command = command as CommandName;
  if (value !== undefined) rule.value = value;
  if (times !== undefined) rule.remaining = Number(times);
  if (rule.kind === 'unplug' && value !== undefined && value !== 'before' && value !== 'after') {
    return { ok: false, message: `fault "${spec}": unplug takes =before or =after` };
  }
  if (
    rule.kind === 'reboot' &&
    value !== undefined &&
    value !== 'before' &&
    value !== 'after' &&
    value !== 'replied'
  ) {
    return { ok: false, message: `fault "${spec}": reboot takes =before, =after or =replied` };
  }
  if (rule.kind === 'stray-event' && value !== undefined && !/^[a-z][a-z0-9-]*$/.test(value)) {
    return { ok: false, message: `fault "${spec}": stray-event takes an event name (lowercase, digits, -)` };
  }
  if (rule.kind === 'wrong-state' && value !== undefined && !BOARD_STATES.includes(value as BoardState)) {
    return { ok: false, message: `fault "${spec}": wrong-state takes one of ${BOARD_STATES.join(', ')}` };
  }
  if (
    ['delay-reply', 'busy', 'wrong-version', 'long-log', 'long-error', 'max-line', 'slow-boot'].includes(
      rule.kind,
    ) &&
    value !== undefined &&
    !/^\d+$/.test(value)
  ) {
    return { ok: false, message: `fault "${spec}": ${rule.kind} takes a whole number` };
  }
  return { ok: true, rule };
}

/** The faults armed on one board; firing one consumes a use of it. */
export class FaultSet {
  private rules: FaultRule[] = [];

  constructor(rules: FaultRule[] = []) {
    for (const rule of rules) this.add(rule);
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  list(): readonly FaultRule[] {
    return this.rules;
  }

  /** The first armed rule of `kind` that matches `command`, consumed; undefined when none fires. */
  take(kind: FaultKind, command: CommandName): FaultRule | undefined {
    const index = this.rules.findIndex(
      (r) => r.kind === kind && (r.command === undefined || r.command === command),
    );
    if (index < 0) return undefined;
    const rule = this.rules[index]!;
    if (rule.remaining !== undefined) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.rules.splice(index, 1);
    }
    return rule;
  }
}

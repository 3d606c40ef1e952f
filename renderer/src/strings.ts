/**
 * Every text the operator reads that does not come from the station itself (operator messages, slot names, ids).
 * One file, so a translation is one file too.
 */
import type { Role, SlotState, StepName } from '../../electron/station-api';

export const STRINGS = {
  appTitle: 'Provisioning station',
  sandbox: 'SANDBOX',
  sandboxNote: 'Sandbox: nothing here reaches the Infuse cloud',

  connection: {
    connecting: 'Connecting to the station…',
    live: 'connection: live',
    lost: 'Connection to the station lost — reconnecting. Nothing on this screen is live.',
    back: 'Connection to the station is back.',
    stopped: (reason: string) => `The station has stopped: ${reason}`,
  },

  login: {
    title: 'Log in',
    operatorId: 'Operator id',
    pin: 'PIN',
    submit: 'Log in',
    clear: 'Clear',
    backspace: 'Delete last digit',
    demoTitle: 'Sandbox demo accounts',
    firstAdminTitle: 'Create the first administrator',
    firstAdminHelp:
      "This station has no accounts yet. Choose a PIN (4 to 12 digits) or a password (8 or more characters) for its first administrator (the config's firstAdmin).",
    firstAdminSubmit: 'Create administrator',
    pinAgain: 'PIN again',
    pinsDiffer: 'The two PINs differ: type them again.',
  },

  banner: {
    noBatch: 'No batch open',
    batch: 'Batch',
    workOrder: 'WO',
    target: (done: number, target: number | null) =>
      target === null ? `${done} passed` : `${done} / ${target}`,
    fpy: (value: number | null) => (value === null ? 'FPY –' : `FPY ${(value * 100).toFixed(1)} %`),
    uph: (value: number | null) => (value === null ? '– u/h' : `${value} u/h`),
    targetReached: 'target reached',
    openBatch: 'Open batch',
    closeBatch: 'Close batch',
    logout: 'Log out',
    settings: 'Settings',
    loggedInAs: (name: string, roles: readonly Role[]) => `${name} (${roles.join(', ')})`,
  },

  batchDialog: {
    openTitle: 'Open a batch',
    name: 'Batch name',
    workOrder: 'Work order (optional)',
    recipe: 'Recipe',
    target: 'Target quantity (optional)',
    open: 'Open batch',
    cancel: 'Cancel',
    closeTitle: 'Close the batch',
    closeShort: (passed: number, target: number) =>
      `Only ${passed} of ${target} have passed: closing short needs a supervisor and a reason.`,
    reason: 'Reason',
    close: 'Close batch',
  },

  slot: {
    stateWord: {
      empty: 'EMPTY',
      'board-present': 'READY',
      'waiting-for-scan': 'SCAN',
      queued: 'WAITING',
      running: 'RUNNING',
      passed: 'PASS',
      failed: 'FAIL',
      cancelled: 'CANCELLED',
      skipped: 'SKIPPED',
    } satisfies Record<SlotState, string>,
    plugIn: 'plug in a board',
    scanLabel: 'scan the label',
    ready: 'ready to start',
    readyNoBatch: 'open a batch to start',
    readyNoSession: 'log in to start',
    queued: 'waiting for a free channel',
    removeBoard: 'remove the board',
    device: 'device',
    mcu: 'mcu',
    serial: 'SN',
    step: (index: number, count: number) => `step ${index} / ${count}`,
    bindHint: 'the next scan goes to this slot',
    skippedBy: (reason: string, by: string | null) => (by ? `${reason} (${by})` : reason),
    boardRemoved: 'board removed',
  },

  steps: {
    connect: 'connecting',
    identify: 'reading identity',
    'recipe-checks': 'checking the recipe',
    'device-record': 'registering the device',
    'cloud-key': 'checking the cloud key',
    'key-agreement': 'agreeing keys',
    'mqtt-token': 'getting the MQTT token',
    'write-credentials': 'writing credentials',
    verify: 'verifying',
    finish: 'finishing',
    'communication-check': 'checking it is online',
  } satisfies Record<StepName, string>,

  actions: {
    start: 'Start',
    retry: 'Retry',
    cancel: 'Cancel',
    skip: 'Skip',
    callSupervisor: 'Call supervisor',
  },

  approve: {
    title: 'Supervisor approval',
    help: 'This failure was not safe to retry. A supervisor approves with their PIN and a reason.',
    supervisorId: 'Supervisor id',
    pin: 'Supervisor PIN',
    reason: 'Reason',
    approve: 'Approve and retry',
    cancel: 'Cancel',
  },

  skip: {
    title: 'Set the board aside',
    reason: 'Reason',
    skip: 'Set aside',
    cancel: 'Cancel',
  },

  settings: {
    title: 'Settings',
    sound: 'Sound on PASS / FAIL',
    flash: 'Flash the screen on PASS / FAIL',
    done: 'Done',
  },

  footer: {
    lastScan: 'last scan',
    noScan: 'no scan yet',
    scanTo: (text: string, slot: string) => `${text} → ${slot}`,
    scanRefused: (text: string) => `${text} refused`,
  },
};

import { afterEach } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../firmware-protocol/virtual-board';
import { BoardSession, SerialLink, type SerialLinkOptions } from '../../electron/serial';

/**
 * Virtual boards on real PTYs for one test, torn down after it. Boards run with a short replug delay so unplug
 * tests stay quick.
 */
export function useVirtualBoards() {
  const simulators: Simulator[] = [];
  const links: SerialLink[] = [];

  afterEach(async () => {
    await Promise.all(links.splice(0).map((link) => link.close()));
    await Promise.all(simulators.splice(0).map((sim) => sim.stop()));
  });

  return {
    async start(options: Partial<SimulatorOptions> = {}) {
      const sim = await startSimulator({ count: 1, replugMs: 300, processingDelayMs: 2, ...options });
      simulators.push(sim);
      return sim;
    },
    async connect(path: string, options: Partial<SerialLinkOptions> = {}) {
      const link = await SerialLink.open({ path, timeoutScale: 0.5, ...options });
      links.push(link);
      return { link, session: new BoardSession(link) };
    },
  };
}

export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

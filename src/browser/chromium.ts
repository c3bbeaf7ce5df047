import { existsSync } from 'node:fs';
import { BackendError } from '../errors.js';

export const CHROMIUM_PATH = process.env['KERAS_BRIDGE_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Flags for headless Chromium here: no sandbox (we run as root in CI), no background network
 * (this machine's network is closed), and SwiftShader so that WebGL works without a GPU.
 */
const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
];

/** `extraArgs`: what the run's backends need beyond these (their descriptors' chromiumArgs). */
export async function launchChromium(extraArgs: readonly string[] = []) {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new BackendError(
      `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install -y chromium, or npm run setup as root) ` +
        'or point KERAS_BRIDGE_CHROMIUM at a Chromium binary.',
    );
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS, ...extraArgs], headless: true });
}

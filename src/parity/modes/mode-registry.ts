import type { ParityModeDefinition } from './parity-mode.js';

const modes: ParityModeDefinition<never>[] = [];

/**
 * Registers a parity mode; modes run, compare and report in registration order (modes/index.ts
 * registers the built-in ones: end to end first, as every other mode is read against it). A mode
 * must be registered in every runtime that evaluates: the browser page imports modes/index.js.
 */
export function registerParityMode<E>(mode: ParityModeDefinition<E>): () => void {
  // A programming error (exit 70), not a user's: two files claiming one name.
  if (modes.some((m) => m.name === mode.name)) throw new Error(`parity mode '${mode.name}' is registered twice`);
  const registered = mode as unknown as ParityModeDefinition<never>;
  modes.push(registered);
  /** Unregisters it (for tests that add a mode for a while). */
  return () => void modes.splice(modes.indexOf(registered), 1);
}

/** The registered modes, in registration order. */
export function parityModes(): readonly ParityModeDefinition<unknown>[] {
  return modes as unknown as readonly ParityModeDefinition<unknown>[];
}

/** A registered mode by name. */
export function parityMode(name: string): ParityModeDefinition<unknown> {
  const mode = parityModes().find((m) => m.name === name);
  if (!mode) throw new Error(`no parity mode '${name}' is registered (registered: ${parityModes().map((m) => m.name).join(', ')})`);
  return mode;
}

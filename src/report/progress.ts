/**
 * Progress of a long run on stderr: a bar redrawn in place on a terminal, one line per step
 * otherwise (CI logs), so that neither floods nor stays silent. Within a step, its stages (a
 * parity mode, the comparison): on a terminal the bar names the one running; in a log, a stage
 * gets a line of its own only once it has taken SLOW_STAGE_S or more, so a zoo of small models
 * logs one line each and a model that takes minutes says where they went.
 */
export interface Progress {
  step(label: string): void;
  /** The current step's stage that starts now (the one before it ends). */
  stage(label: string): void;
  done(): void;
}

/** A stage at least this long gets its own line in a log (seconds). */
export const SLOW_STAGE_S = 5;

export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr, prefix = 'parity', now: () => number = () => performance.now()): Progress {
  let current = 0;
  let stepLabel = '';
  let running: { label: string; started: number } | undefined;
  const interactive = Boolean(stream.isTTY) && !process.env['CI'];
  const width = 24;
  const draw = (label: string) => {
    const filled = Math.round((width * (current - 1)) / Math.max(1, total));
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    stream.write(`\r\x1b[2K${prefix} ${bar} ${current}/${total} ${label}`);
  };
  /** Ends the running stage: in a log, a line for it if it was slow. */
  const endStage = () => {
    if (running && !interactive) {
      const seconds = (now() - running.started) / 1000;
      if (seconds >= SLOW_STAGE_S) stream.write(`${prefix}: [${current}/${total}] ${stepLabel}: ${running.label} took ${seconds.toFixed(1)} s\n`);
    }
    running = undefined;
  };
  return {
    step(label) {
      endStage();
      current++;
      stepLabel = label;
      if (!interactive) {
        stream.write(`${prefix}: [${current}/${total}] ${label}\n`);
        return;
      }
      draw(label);
    },
    stage(label) {
      endStage();
      running = { label, started: now() };
      if (interactive) draw(`${stepLabel}: ${label}`);
    },
    done() {
      endStage();
      if (interactive) stream.write(`\r\x1b[2K${prefix}: ${total}/${total} done\n`);
    },
  };
}

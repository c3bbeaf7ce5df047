import { KerasBridgeError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { printableMessage } from '../report/printable.js';
import { commandHelp, parseCommandArgs } from './command.js';
import { COMMANDS } from './command-index.js';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'keras-bridge: move Keras 3 models, custom layers included, to TensorFlow.js and prove the move numerically.',
    '',
    'Usage: keras-bridge COMMAND [options]     (keras-bridge COMMAND --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return name ? EXIT.ok : EXIT.input_error;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`keras-bridge: unknown command '${name}'.\n\n${mainHelp()}\n`);
    return EXIT.input_error;
  }
  // Only the command named is loaded (command-index.ts); production mode silences tfjs's console
  // advice (e.g. the cpu backend's 'install tfjs-node' banner).
  const [command, { default: tf }] = await Promise.all([entry.load(), import('#tfjs')]);
  tf.enableProdMode();
  const args = parseCommandArgs(command, rest);
  if (args.values['help']) {
    process.stdout.write(commandHelp(command) + '\n');
    return EXIT.ok;
  }
  return command.run(args);
}

/** Runs the command `argv` names, setting the process's exit code (exit-codes.ts). */
export function runCommand(argv: string[]): Promise<void> {
  return main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof KerasBridgeError) {
        process.stderr.write(`keras-bridge: error: ${printableMessage(error.message)}\n`);
        process.exitCode = EXIT[error.exitName];
      } else {
        process.stderr.write(`keras-bridge: internal error: ${printableMessage((error as Error)?.stack ?? String(error))}\n`);
        process.exitCode = EXIT.internal_error;
      }
    },
  );
}

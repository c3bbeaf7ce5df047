/**
 * Text from a model file (layer names, config values, paths inside it) made safe to print on a
 * terminal: control characters, terminal escape sequences and bidirectional overrides are shown
 * as escapes instead of acting, and an overlong message is cut, saying how much was left out.
 * Newlines and tabs stay: messages are laid out with them.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string, maxLength = 20_000): string {
  const escaped = text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped.length <= maxLength) return escaped;
  return `${escaped.slice(0, maxLength)}… (${escaped.length - maxLength} more characters)`;
}

/** Each line cut to `maxLineLength` (a 100 MB config value inside an otherwise useful message), then the whole to `maxLength`. */
export function printableMessage(text: string, maxLineLength = 2_000, maxLength = 20_000): string {
  const lines = text.split('\n').map((line) => printable(line, maxLineLength));
  return printable(lines.join('\n'), maxLength);
}

/**
 * Every string inside plain data made printable, uncut up to `maxLength`: saved results read back
 * (`keras-bridge report`) are input from end to end, backend names and reasons included, while a
 * parity run's own strings are printed as they are. Strings that need nothing stay identical.
 */
export function printableStrings<T>(value: T, maxLength = 1024 * 1024): T {
  if (typeof value === 'string') return printable(value, maxLength) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => printableStrings(v, maxLength)) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printableStrings(v, maxLength)])) as T;
}

import { parseRoutes, type RouteName } from '../convert/route-inputs.js';
import { UsageError } from './command.js';

/** --routes LIST, as a usage error when it names an unknown route. */
export function parseRoutesFlag(value: string | undefined): RouteName[] {
  try {
    return parseRoutes(value);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

// Where joind's configuration and spool directories are: options, then the environment, then defaults.
import path from 'node:path';

/** $JOINCONFIG / $JOINSPOOL and their defaults, overridden by --config-dir / --spool-dir. */
export function resolveDirs(
  opts: { configDir?: string; spoolDir?: string },
  env = process.env,
): { configDir: string; spoolDir: string } {
  return {
    configDir: path.resolve(opts.configDir ?? env.JOINCONFIG ?? '/etc/join'),
    spoolDir: path.resolve(opts.spoolDir ?? env.JOINSPOOL ?? '/var/join'),
  };
}

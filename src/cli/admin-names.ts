// The admin subcommands' names: main.ts tells them from the server's options without loading their code.
export const ADMIN_COMMANDS: ReadonlySet<string> = new Set([
  'dump',
  'load',
  'register',
  'show',
  'check-db',
  'export',
  'import',
  'ctl',
]);

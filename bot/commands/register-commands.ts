import type { Command } from 'commander';
import { registerCheckSqlCommand } from './check-sql.ts';
import { registerRunCommand } from './run.ts';
import { registerRenderCommand } from './render.ts';
import { registerShellCommand } from './shell.ts';

/** Adds every subcommand to the `threadql` program. */
export function registerCommands(program: Command): void {
  registerRunCommand(program);
  registerShellCommand(program);
  registerCheckSqlCommand(program);
  registerRenderCommand(program);
}

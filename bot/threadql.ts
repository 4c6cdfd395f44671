#!/usr/bin/env node
// The `threadql` command. Each subcommand lives in bot/commands/ and registers itself here.
import { Command } from 'commander';
import { registerCommands } from './commands/register-commands.ts';

const program = new Command('threadql')
  .description('Ask your databases questions in Slack and Discord threads.')
  .showHelpAfterError();
registerCommands(program);
await program.parseAsync(process.argv);

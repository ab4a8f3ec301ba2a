import type { Command } from 'commander';
import type { CliIo } from '../output.js';

// PLACEHOLDER (issue 13, MCP gateway): custos mcp-server add|list|show|update|refresh|remove.
export function registerMcpServerCommands(_program: Command, _io: CliIo): void {}

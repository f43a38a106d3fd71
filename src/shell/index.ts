/** zkCli-compatible shell: `zabkeeper shell`. */
export { runShell, processIO, type ShellIO } from './main';
export { Shell, COMMAND_NAMES, COMMAND_USAGE, type Output, type ShellOptions, type LineResult } from './shell';
export { SERVER_COMMANDS, CliError, JavaCrash, type CommandDef, type CommandContext } from './commands';
export { completeLine, cachedLister, type CompleterDeps } from './complete';
export { tokenize, parseLaunchArgs, type LaunchOptions } from './tokenize';
export * as zkFormat from './format';

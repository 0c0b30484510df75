/** An argv from a command written as a list or as a string split on spaces. */
export function argv(command: string[] | string): string[] {
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

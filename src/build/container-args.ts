/**
 * Arguments a daemon needs in a container and not in a VM, as data. A container runs with
 * fewer privileges than a VM's root: it has no CAP_SYS_TIME, so nothing in it may set the
 * clock. A unit says what its daemon wants with ConditionCapability= (chrony.service has
 * ConditionCapability=CAP_SYS_TIME: systemd does not start it without), and where the daemon
 * has an option that does without that capability, the container image adds the option after
 * the command; the VM runs the command as written and has the capability.
 * workload.containerArgs in jeos.yaml replaces the table's arguments ([] for none).
 * docs/init.md lists the table.
 */

export interface ContainerArgsRule {
  /** Base name of the executable. */
  program: string;
  /** The capability the daemon wants and a container lacks (its unit's ConditionCapability=). */
  capability: string;
  /** Arguments that make it run without that capability. */
  args: string[];
  /** Why, for the build's report. */
  note: string;
}

export const CONTAINER_ARGS: readonly ContainerArgsRule[] = [
  {
    program: 'chronyd',
    capability: 'CAP_SYS_TIME',
    args: ['-x'],
    note: "chronyd -x leaves the system clock alone and still tracks time and serves NTP; without it chronyd stops on adjtimex's 'Operation not permitted'",
  },
];

/** The rule for a command's program, unless the command already has its arguments. */
export function containerArgsRule(command: readonly string[]): ContainerArgsRule | undefined {
  const path = command[0] ?? '';
  const base = path.slice(path.lastIndexOf('/') + 1);
  const rule = CONTAINER_ARGS.find((r) => r.program === base);
  if (!rule || rule.args.every((a) => command.includes(a))) return undefined;
  return rule;
}

/** What the container adds after the command: workload.containerArgs when set, else the table's. */
export function containerArgsOf(command: readonly string[], declared: readonly string[] | undefined): string[] {
  if (declared) return [...declared];
  return containerArgsRule(command)?.args ?? [];
}

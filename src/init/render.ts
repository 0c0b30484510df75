/** An init plan as jeos.yaml text: only keys that differ from the defaults, with a comment saying where it came from. */
import { Document, isScalar, isSeq, visit } from 'yaml';
import { CONFIG_FILE } from '../config/load.js';
import type { InitPlan } from './types.js';

export interface RenderOptions {
  suites: string[];
  architecture: string;
  outputs: string[];
  /** debian.mirror / securityMirror, only when given on the command line. */
  mirror?: string;
  securityMirror?: string;
}

/** Where a copied host file goes in DIR: `files/` plus its path in the image. */
export function hostFileSource(path: string): string {
  return `files${path}`;
}

export function renderConfig(plan: InitPlan, options: RenderOptions): string {
  const workload: Record<string, unknown> = { packages: plan.packages };
  if (plan.command) workload.command = plan.command;
  if (plan.pre.length) workload.pre = plan.pre;
  if (plan.user) workload.user = plan.user;
  if (plan.workdir) workload.workdir = plan.workdir;
  if (Object.keys(plan.env).length) workload.env = plan.env;
  if (plan.environmentFiles?.length) workload.environmentFiles = plan.environmentFiles;
  if (plan.directories?.length) workload.directories = plan.directories;
  if (plan.capabilities?.length) workload.capabilities = plan.capabilities;
  const files = [
    ...plan.inline.map((f) => ({ path: f.path, content: f.content })),
    ...plan.hostFiles.map((f) => ({ path: f.path, source: hostFileSource(f.path), mode: f.mode })),
  ];
  if (files.length) workload.files = files;
  if (plan.ports.length) workload.ports = plan.ports;
  if (plan.healthcheck) workload.healthcheck = plan.healthcheck;
  const debian: Record<string, unknown> = { suites: options.suites, architecture: options.architecture };
  if (options.mirror) debian.mirror = options.mirror;
  if (options.securityMirror) debian.securityMirror = options.securityMirror;
  const doc = new Document({ name: plan.name, description: plan.description, debian, workload, outputs: options.outputs });
  doc.commentBefore = [
    ` Written by jeos init --from ${plan.source.from}`,
    ` A starting point: check the command, ports and health check, then jeos build and jeos test.`,
    ` Every key: docs/config.md. How init chose these values: docs/init.md.`,
  ].join('\n');
  for (const note of plan.notes) doc.commentBefore += `\n Note: ${note}`;
  // Lists of plain values on one line ([trixie, trixie-updates]); lists of maps as blocks.
  visit(doc, { Seq: (_, node) => void (isSeq(node) && node.items.every(isScalar) && (node.flow = true)) });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

export { CONFIG_FILE };

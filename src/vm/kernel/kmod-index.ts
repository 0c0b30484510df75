/**
 * kmod's binary index (`modules.dep.bin`, `modules.alias.bin`, …), written the way
 * depmod writes it, so the files are byte-identical to depmod's for the same input.
 * libkmod answers every lookup (modprobe by name, by alias, builtin checks) from
 * these `.bin` files only; the text files beside them are for people.
 *
 * Format (libkmod/libkmod-index.c): a big-endian header (magic 0xB007F457, version
 * 2.1, offset of the root node), then a path-compressed trie of 7-bit ASCII keys,
 * written depth-first. Each node: its prefix (NUL-terminated) if any, its child
 * range (first and last character, one offset per character, 0 for none) if any,
 * and its values (count, then priority and NUL-terminated text per value) if any.
 * The top nibble of every node offset says which of the three parts the node has.
 */
import { JeosError } from '../../errors.js';

const INDEX_MAGIC = 0xb007f457;
const INDEX_VERSION = (0x0002 << 16) | 0x0001;
const CHILD_MAX = 128;
const NODE_PREFIX = 0x80000000;
const NODE_VALUES = 0x40000000;
const NODE_CHILDS = 0x20000000;

interface IndexValue {
  priority: number;
  value: string;
}

interface IndexNode {
  prefix: string;
  /** Sorted by priority; among equal priorities the latest inserted first (as depmod's list insert). */
  values: IndexValue[];
  children: Map<number, IndexNode>;
  size: number;
  total: number;
}

function newNode(prefix: string): IndexNode {
  return { prefix, values: [], children: new Map(), size: 0, total: 0 };
}

function checkAscii(text: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= CHILD_MAX) {
      throw new JeosError('E_VM_MODULE_INDEX', `kernel module index: ${JSON.stringify(text)} is not 7-bit ASCII`, {
        hint: "kmod's indexes hold only ASCII module names, aliases and symbols",
      });
    }
  }
}

export class KmodIndex {
  private readonly root = newNode('');

  insert(key: string, value: string, priority: number): void {
    checkAscii(key);
    checkAscii(value);
    let node = this.root;
    let i = 0;
    for (;;) {
      // Make node.prefix a prefix of key[i..], splitting the node where they differ.
      let j = 0;
      for (; j < node.prefix.length; j++) {
        const ch = node.prefix.charCodeAt(j);
        if (ch !== key.charCodeAt(i + j)) {
          const child: IndexNode = { ...newNode(node.prefix.slice(j + 1)), values: node.values, children: node.children };
          node.prefix = node.prefix.slice(0, j);
          node.values = [];
          node.children = new Map([[ch, child]]);
          break;
        }
      }
      i += j;
      if (i === key.length) {
        addValue(node, value, priority);
        return;
      }
      const ch = key.charCodeAt(i);
      const next = node.children.get(ch);
      if (!next) {
        const child = newNode(key.slice(i + 1));
        addValue(child, value, priority);
        node.children.set(ch, child);
        return;
      }
      node = next;
      i++;
    }
  }

  /** The index file's bytes. */
  toBuffer(): Buffer {
    calculateSize(this.root);
    const out = Buffer.alloc(12 + this.root.total);
    out.writeUInt32BE(INDEX_MAGIC, 0);
    out.writeUInt32BE(INDEX_VERSION, 4);
    out.writeUInt32BE((12 | mask(this.root)) >>> 0, 8);
    const end = writeNode(this.root, out, 12);
    if (end !== out.length) throw new Error(`kmod index: wrote ${end} bytes, expected ${out.length}`);
    return out;
  }
}

function addValue(node: IndexNode, value: string, priority: number): void {
  let at = 0;
  while (at < node.values.length && node.values[at]!.priority < priority) at++;
  node.values.splice(at, 0, { priority, value });
}

function childRange(node: IndexNode): [number, number] | undefined {
  if (node.children.size === 0) return undefined;
  const keys = [...node.children.keys()];
  return [Math.min(...keys), Math.max(...keys)];
}

function mask(node: IndexNode): number {
  return (node.children.size > 0 ? NODE_CHILDS : 0) | (node.prefix ? NODE_PREFIX : 0) | (node.values.length > 0 ? NODE_VALUES : 0);
}

function calculateSize(node: IndexNode): number {
  node.size = 0;
  node.total = 0;
  const range = childRange(node);
  if (range) {
    node.size += 2 + (range[1] - range[0] + 1) * 4;
    for (const child of node.children.values()) node.total += calculateSize(child);
  }
  if (node.prefix) node.size += node.prefix.length + 1;
  if (node.values.length > 0) {
    node.size += 4;
    for (const v of node.values) node.size += 4 + v.value.length + 1;
  }
  node.total += node.size;
  return node.total;
}

/** Pre-order: this node, then its children in character order. Returns the offset after the subtree. */
function writeNode(node: IndexNode, out: Buffer, offset: number): number {
  let at = offset;
  const range = childRange(node);
  if (node.prefix) {
    at += out.write(node.prefix, at, 'latin1');
    out[at++] = 0;
  }
  if (range) {
    out[at++] = range[0];
    out[at++] = range[1];
    let childOffset = offset + node.size;
    for (let ch = range[0]; ch <= range[1]; ch++) {
      const child = node.children.get(ch);
      out.writeUInt32BE(child ? (childOffset | mask(child)) >>> 0 : 0, at);
      at += 4;
      if (child) childOffset += child.total;
    }
  }
  if (node.values.length > 0) {
    out.writeUInt32BE(node.values.length, at);
    at += 4;
    for (const v of node.values) {
      out.writeUInt32BE(v.priority >>> 0, at);
      at += 4;
      at += out.write(v.value, at, 'latin1');
      out[at++] = 0;
    }
  }
  if (range) {
    for (let ch = range[0]; ch <= range[1]; ch++) {
      const child = node.children.get(ch);
      if (child) at = writeNode(child, out, at);
    }
  }
  return at;
}

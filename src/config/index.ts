export { loadConfig, parseConfig, configDigest, CONFIG_FILE, type LoadedConfig } from './load.js';
export {
  ConfigSchema,
  configJsonSchema,
  DEFAULT_RELEASE,
  DEFAULT_SUITES,
  OUTPUT_FORMATS,
  VM_INIT_PACKAGE,
  PACKAGE_SPEC,
  type Config,
  type ConfigInput,
} from './schema.js';

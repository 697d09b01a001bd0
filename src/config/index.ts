// The public face of src/config: what the server and the CLI call.
export * from './types';
export {
  loadConfig,
  describeConfig,
  formatProblem,
  formatProblems,
  clientFileChanged,
  interfaceAddresses,
  CONFIG_FILES,
  type LoadOptions,
} from './load';
export {
  resolveClientParams,
  staticBindings,
  findBindingByAddress,
  findBindingsByHardware,
  findStaticBinding,
  findNetwork,
  type ClientParams,
  type StaticBinding,
} from './lookup';
export { DEFAULT_POLICY, POLICY_KEYWORDS } from './pcy';
export {
  NOT_IMPLEMENTED,
  RESTART_ONLY,
  settingsNeedingRestart,
  applyOnReload,
  type NotImplemented,
  type RestartNotice,
} from './effect';
export { CAP_TAGS, SCOPE_TAGS, formatTagValue, type TagSpec, type TagKind } from './tags';
export { parseInetAddr, inetAddr } from './inetaddr';
export { hardwareTypeName, parseHardwareType } from './hwaddr';

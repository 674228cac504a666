// The scope module's public face: vocabulary (scope-table.ts), expansion and intersection (scope-expand.ts), access
// checks and field filtering (scope-check.ts), roles (roles.ts).
export {
  SCOPE_IMPLIES,
  METASCOPES,
  SELF_SCOPES,
  FILTER_KINDS,
  USER_MODEL_ACCESS,
  GROUP_MODEL_ACCESS,
  SERVICE_MODEL_ACCESS,
  type FilterKind,
} from './scope-table.ts';
export {
  parseScope,
  isValidScope,
  isKnownBase,
  validateScopes,
  parseScopes,
  unparseScopes,
  reduceScopes,
  expandScopes,
  identifyScopes,
  intersectScopes,
  excessScopes,
  type ScopeFilter,
  type ParsedScope,
  type ParsedScopes,
  type Filters,
  type ScopeOwner,
  type GroupsOf,
} from './scope-expand.ts';
export {
  checkAccess,
  filterFor,
  filterAllows,
  userModelFields,
  groupModelFields,
  serviceModelFields,
  notAuthorizedMessage,
  FILTERED_MESSAGE,
  type ScopeResource,
  type AccessResource,
  type ScopeFilterResult,
  type AccessResult,
} from './scope-check.ts';
export { DEFAULT_ROLES, rolesToScopes, isValidRoleName, type RoleDef, type RoleDefs } from './roles.ts';

/** QA review over a station's audit trail: what other folders may import. */
export { openReviewDb, ReviewOpenError, type ReviewDb } from './review-db';
export {
  COUNT_CAP,
  encodeCursor,
  queryUnits,
  UnitQueryError,
  type UnitPage,
  type UnitPageRequest,
  type UnitQuery,
  type UnitRow,
} from './unit-query';
export { unitDetail } from './unit-detail';
export {
  decodeKeyCursor,
  encodeKeyCursor,
  normaliseAuditTime,
  parseUnitPageRequest,
  searchPrefixEnd,
  SEARCH_MIN_PREFIX,
} from './unit-query-parts';
export { unitFacets } from './facets';

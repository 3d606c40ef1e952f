/** QA review and reports over the central record (the central QA/supervisor host): what other folders may import. */
export { CentralLookupError, CentralReview } from './central-review';
export { CENTRAL_COUNT_CAP, encodeCentralCursor, queryCentralUnits } from './central-units';
export { centralFacets } from './central-facets';

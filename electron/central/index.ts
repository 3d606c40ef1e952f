/** Shipping every station's audit trail to a central PostgreSQL, and checking it there: what other folders may import. */
export {
  CENTRAL_PASSWORD_SECRET,
  CentralConfigError,
  checkCentralUrl,
  describeCentralUrl,
  openCentralPool,
} from './connection';
export { CENTRAL_MIGRATIONS, migrateCentral } from './schema';
export {
  CentralRefusedError,
  LocalTrailError,
  TrailShipper,
  type ShipResult,
  type StationRegistration,
} from './shipper';
export { verifyCentral, type StationVerdict } from './central-verify';
export { ShippingLoop, type CentralState, type CentralStatus } from './shipping-loop';
export { openTrailShipping, type TrailShipping } from './trail-shipping';

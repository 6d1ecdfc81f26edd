// The seed scenario for the overhead figures: the e2e tests' StatefulSet "db" with its 1Gi claim
// postgres-db-0 on class standard.
export { createSeedDatabase } from '../../test/helpers/workloads.js';

export { BucketsPage } from './BucketsPage';
export { BUCKETS_PATH, decodeBuckets, type Bucket } from './bucketsApi';

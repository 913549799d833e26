/**
 * Where the socket worker still imports the ingest edge from; the modules are in `./ingest/`. Remove this
 * file once src/subscriber/worker.ts imports `./ingest/decoder.js`.
 */
export { type DecodedIngest, IngestDecoder } from "./ingest/decoder.js";

/** The embedding API of tickring. */
export { type DemoOptions, resolveServeOptions, type ServeOptions } from "./config/options.js";
export { Tickring } from "./daemon/tickring.js";
export { type ErrorCode, OptionError, TickringError } from "./errors.js";
export { FrameEncoder, FrameView, type Tick } from "./frame/codec.js";
export { type FrameObject, frameToObject } from "./frame/json.js";

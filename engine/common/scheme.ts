// Quantization schemes of the engine, as defined in ../shared/spec/bitnet.md and docs/model-format.md.
export const SCHEMES = ['fp', 'b1.58', 'a4.8', 'v2-a8', 'v2-a4'] as const;
export type Scheme = (typeof SCHEMES)[number];

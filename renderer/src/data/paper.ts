// Reference figures from BitNet a4.8 (arXiv 2411.04965), Table 2, 7B model (../shared/spec/bitnet.md).

export const A48_TABLE2_7B = {
  qkv: 0.121,
  o: 0.5,
  up: 0.714,
  gate: 0.12,
  down: 0.842,
  overall: 0.445,
} as const;

/** Overall activation sparsity of BitNet b1.58 7B, same table. */
export const B158_OVERALL_7B = 0.073;
